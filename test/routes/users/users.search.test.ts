import { beforeAll, describe, expect, it } from "vitest";
import { api, createUser, type TestUser } from "../../helpers";

let admin: TestUser;
let long: TestUser;
let underscore: TestUser;
let plain: TestUser;

beforeAll(async () => {
  admin = await createUser("admin");
  long = await createUser("member", { email: `${"q".repeat(100)}@example.com`, username: "long-local-part" });
  underscore = await createUser("member", { username: "ab_cd" });
  plain = await createUser("member", { username: "abxcd" });
});

async function search(term: string): Promise<string[]> {
  const res = await api(`/users?search=${encodeURIComponent(term)}&limit=100`, { token: admin.token });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { items: { id: string }[] };
  return body.items.map((item) => item.id);
}

describe("GET /users?search= matches literally at every length the contract accepts", () => {
  it("answers 200 for 100 characters (matching) and for 100 '%' (matching nobody)", async () => {
    expect(await search("Q".repeat(100))).toEqual([long.id]);
    expect(await search("%".repeat(100))).toEqual([]);
    expect(await search("_".repeat(100))).toEqual([]);
  });

  it("takes _ literally in usernames", async () => {
    const found = await search("b_c");
    expect(found).toContain(underscore.id);
    expect(found).not.toContain(plain.id);
  });
});
