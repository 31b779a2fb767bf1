// A large etcd watch response comes in fragments (all but the last marked
// `fragment`), and one revision's events may span two of them: the watch hands
// on only whole revisions, in order, and nothing twice.
import { create } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../../gen-etcd/etcd/mvccpb/kv_pb";
import { FragmentJoiner } from "../../src/store/etcd/client/watch-stream";

const at = (revision: number, key: string): Event => create(EventSchema, { kv: { key: new TextEncoder().encode(key), modRevision: BigInt(revision) } });
const keys = (events: Event[]) => events.map((e) => `${e.kv!.modRevision}:${new TextDecoder().decode(e.kv!.key)}`);

test("a revision split across fragments is handed on whole, once its last fragment came", () => {
  const joiner = new FragmentJoiner();
  // Revision 7 (one transaction of three keys) spans the first two fragments; 8 and 9 follow.
  expect(keys(joiner.take([at(5, "a"), at(6, "b"), at(7, "c1")], true))).toEqual(["5:a", "6:b"]);
  expect(joiner.pending).toBe(true);
  expect(keys(joiner.take([at(7, "c2")], true))).toEqual([]);
  expect(keys(joiner.take([at(7, "c3"), at(8, "d")], true))).toEqual(["7:c1", "7:c2", "7:c3"]);
  expect(keys(joiner.take([at(9, "e")], false))).toEqual(["8:d", "9:e"]);
  expect(joiner.pending).toBe(false);
});

test("an unfragmented response is handed on as it is", () => {
  const joiner = new FragmentJoiner();
  expect(keys(joiner.take([at(3, "a"), at(3, "b"), at(4, "c")], false))).toEqual(["3:a", "3:b", "4:c"]);
  expect(joiner.pending).toBe(false);
});
