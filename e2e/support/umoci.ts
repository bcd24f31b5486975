// umoci unpack of one platform of an image in an OCI layout. Debian's umoci 0.4.7 takes a ref that names a
// manifest ("tag is ambiguous" for an index): skopeo copies the platform's manifest (same blobs) into a
// scratch layout first, the way a user of umoci 0.4 would take a variant out of a multi-platform image.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exec } from './exec';

/** Unpacks `ref` of the layout at `layout` (its `arch` variant when it is an index) and gives `use` the rootfs. */
export async function withUmociRootfs<T>(layout: string, ref: string, use: (rootfs: string) => Promise<T> | T, arch = 'amd64'): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nxai-umoci-'));
  try {
    const single = path.join(dir, 'layout');
    await exec('skopeo', ['copy', '--override-os', 'linux', '--override-arch', arch, `oci:${layout}:${ref}`, `oci:${single}:image`]);
    const bundle = path.join(dir, 'bundle');
    await exec('umoci', ['unpack', '--rootless', '--image', `${single}:image`, bundle]);
    return await use(path.join(bundle, 'rootfs'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
