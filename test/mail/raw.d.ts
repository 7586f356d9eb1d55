/** Vite's `?raw` suffix imports a file as text (used to check wrangler.toml against the code's constants). */
declare module "*?raw" {
  const text: string;
  export default text;
}
