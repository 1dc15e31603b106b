/** Body of the login routes. Validated by hand to keep the sample dependency-free. */
export interface Credentials {
  username?: unknown;
  password?: unknown;
}
