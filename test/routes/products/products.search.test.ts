import { beforeAll, describe, expect, it } from "vitest";
import { api, createUser, type TestUser } from "../../helpers";

let admin: TestUser;
const names = {
  percents: "%".repeat(200),
  long: `${"Long lamp ".repeat(19)}0123456789`,
  fifty: "50% off lamp",
  fiveHundred: "500 off lamp",
  underscore: "desk_lamp",
  noUnderscore: "deskXlamp",
  backslash: "back\\slash lamp",
};

beforeAll(async () => {
  admin = await createUser("admin");
  for (const name of Object.values(names)) {
    const res = await api("/products", {
      method: "POST",
      token: admin.token,
      json: { name, brand: "Search", price: 1 },
    });
    expect(res.status).toBe(201);
  }
});

async function search(q: string): Promise<string[]> {
  const res = await api(`/products?q=${encodeURIComponent(q)}&limit=100`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { items: { name: string }[]; total: number };
  expect(body.total).toBe(body.items.length);
  return body.items.map((item) => item.name).sort();
}

describe("GET /products?q= matches literally at every length the contract accepts", () => {
  it("answers 200 for 200 characters, and for 200 '%' finds only the name made of them", async () => {
    expect(names.long).toHaveLength(200);
    expect(await search(names.long)).toEqual([names.long]);
    expect(await search("%".repeat(200))).toEqual([names.percents]);
    // Longer than D1's 50-byte LIKE limit but matching nothing: still 200, empty.
    expect(await search("z".repeat(200))).toEqual([]);
  });

  it("takes %, _ and backslash as themselves, and ignores ASCII case", async () => {
    expect(await search("50%")).toEqual([names.fifty]);
    expect(await search("k_l")).toEqual([names.underscore]);
    expect(await search("k\\s")).toEqual([names.backslash]);
    expect(await search("OFF LAMP")).toEqual([names.fiveHundred, names.fifty].sort());
  });

  it("still refuses what the contract refuses: 201 characters is a 400 problem, never a 503", async () => {
    const res = await api(`/products?q=${"a".repeat(201)}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});
