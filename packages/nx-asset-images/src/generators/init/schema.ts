export interface InitGeneratorSchema {
  /** Skip formatting the files the generator changed. */
  skipFormat?: boolean;
}
