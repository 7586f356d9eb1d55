// The cookie sign-in routes of the draft contract, until the server side is merged and schema.d.ts has them:
// then this file goes. Shaped as openapi-typescript writes paths.
import type { components } from "./schema";

type Json<T> = { headers: { [name: string]: unknown }; content: { "application/json": T } };
type Problem = Json<components["schemas"]["Problem"]>;
type ConsoleSession = { user: components["schemas"]["User"]; expires_in: number; refresh_expires_in: number };
type Op<Body, Ok> = {
  parameters: { query?: never; header?: never; path?: never; cookie?: never };
  responses: Ok & { 400: Problem; 401: Problem; 403: Problem; 409: Problem; 422: Problem; 429: Problem };
} & ([Body] extends [never] ? { requestBody?: never } : { requestBody: { content: { "application/json": Body } } });
type NoMethods = {
  get?: never;
  put?: never;
  post?: never;
  delete?: never;
  options?: never;
  head?: never;
  patch?: never;
  trace?: never;
};
type Path<Methods> = { parameters: { query?: never; header?: never; path?: never; cookie?: never } } & Omit<
  NoMethods,
  keyof Methods
> &
  Methods;

declare module "./schema" {
  interface paths {
    "/api/v1/auth/session": Path<{
      post: Op<components["schemas"]["Login"], { 200: Json<ConsoleSession> }>;
      delete: Op<never, { 204: { headers: { [name: string]: unknown }; content?: never } }>;
    }>;
    "/api/v1/auth/session/register": Path<{
      post: Op<components["schemas"]["Register"], { 201: Json<ConsoleSession> }>;
    }>;
    "/api/v1/auth/session/refresh": Path<{ post: Op<never, { 200: Json<ConsoleSession> }> }>;
    "/api/v1/auth/config": Path<{ get: Op<never, { 200: Json<{ signup: boolean }> }> }>;
  }
}
