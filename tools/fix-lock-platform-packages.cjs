// Run after any `npm install` that rewrites package-lock.json: node tools/fix-lock-platform-packages.cjs
// Adds lock entries for nx's optional platform packages that the npm registry
// mirror here lacks (npm ci refuses a lock without them). Platform-guarded, so
// npm ci never fetches them on linux-x64.
const fs = require('fs');
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
const version = lock.packages['node_modules/nx'].version;
const plat = {
  'nx-darwin-arm64': [['darwin'], ['arm64']],
  'nx-darwin-x64': [['darwin'], ['x64']],
  'nx-freebsd-x64': [['freebsd'], ['x64']],
  'nx-linux-arm-gnueabihf': [['linux'], ['arm']],
  'nx-linux-arm64-musl': [['linux'], ['arm64'], ['musl']],
  'nx-linux-x64-musl': [['linux'], ['x64'], ['musl']],
  'nx-win32-arm64-msvc': [['win32'], ['arm64']],
  'nx-win32-x64-msvc': [['win32'], ['x64']],
};
const out = {};
for (const [k, v] of Object.entries(lock.packages)) {
  out[k] = v;
  if (k === 'node_modules/@nx/devkit') {
    for (const [n, [os, cpu, libc]] of Object.entries(plat)) {
      if (lock.packages[`node_modules/@nx/${n}`]) continue;
      const e = { version, cpu };
      if (libc) e.libc = libc;
      Object.assign(e, { license: 'MIT', optional: true, os });
      out[`node_modules/@nx/${n}`] = e;
    }
  }
}
lock.packages = out;
fs.writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
