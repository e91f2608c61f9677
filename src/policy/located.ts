/** A validated document with its origin, ready to compile. */
export interface Located<T> {
  readonly file: string;
  readonly index: number;
  readonly doc: T;
}
