/** A configuration the module refuses to start with. The message names the option. */
export class JwtExtendedConfigError extends Error {
  override name = 'JwtExtendedConfigError';
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`JwtExtendedModule: option "${option}" ${problem}`);
  }
}

/** Stops start-up, naming the option at fault. */
export function fail(option: string, problem: string): never {
  throw new JwtExtendedConfigError(option, problem);
}
