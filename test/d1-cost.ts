/** The request's D1 cost as its Server-Timing header tells it (`d1;desc="rt=1 read=21 written=0";dur=…`). */
export function d1Cost(res: Response) {
  const match = /d1;desc="rt=(\d+) read=(\d+) written=(\d+)"/.exec(res.headers.get("server-timing") ?? "");
  if (!match) throw new Error(`no D1 cost in Server-Timing: ${res.headers.get("server-timing")}`);
  return { roundTrips: Number(match[1]), rowsRead: Number(match[2]), rowsWritten: Number(match[3]) };
}
