// What the worker prints (/api/console_output/ws): the last lines, kept scrolled to the end.

import { useEffect, useRef, useState } from "react";
import { closeFeed } from "../api";
import { useServer } from "../server";

/** Lines kept in the page; older ones are dropped. */
const KEEP = 500;

export function Console() {
  const { api } = useServer();
  const [lines, setLines] = useState<string[]>([]);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const pending: string[] = [];
    let frame = 0;
    const flush = () => {
      frame = 0;
      const add = pending.splice(0);
      setLines((old) => [...old, ...add].slice(-KEEP));
    };
    const socket = api.openFeed("/console_output/ws");
    socket.onmessage = (event) => {
      const { msg } = JSON.parse(String(event.data)) as { msg?: unknown };
      if (typeof msg !== "string") return;
      pending.push(...msg.replace(/\n$/, "").split("\n"));
      if (!frame) frame = requestAnimationFrame(flush);
    };
    return () => {
      closeFeed(socket);
      cancelAnimationFrame(frame);
    };
  }, [api]);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <section className="card console" aria-labelledby="console-title">
      <h2 id="console-title">Console</h2>
      {lines.length === 0 ? (
        <p className="muted">What the worker prints shows here.</p>
      ) : (
        <pre ref={box} tabIndex={0} aria-label="Console output" data-lines={lines.length}>
          {lines.join("\n")}
        </pre>
      )}
    </section>
  );
}
