// Peak statistics of a 1-D scan once its run has ended, computed by the server over the
// stored points (cielo.callbacks.compute_peak_stats): the maximum and minimum, and, when
// the scan brackets the peak, its centre of mass, centre and FWHM (else why not).

import { useEffect, useState } from "react";
import { errorText } from "../api";
import { useServer } from "../server";
import type { PeakStats } from "../types";

/** Wait this long (ms) before asking again while the catalog holds fewer points than drawn. */
const RETRY_MS = 300;
/** Ask at most this many times (the worker stores a run's points within a second or so). */
const TRIES = 20;

const show = (v: number | null) => (v === null ? "–" : String(Number(v.toPrecision(5))));

export function PeakSummary(props: { uid: string; x: string; y: string; points: number }) {
  const { api } = useServer();
  const { uid, x, y, points } = props;
  const [stats, setStats] = useState<PeakStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    let tries = 0;
    const ask = () => {
      tries += 1;
      api
        .peakStats(uid, "primary", x, y)
        .then((s) => {
          if (!live) return;
          setStats(s);
          // Points drawn but not stored yet: the statistics are asked for again.
          if (s.n < points && tries < TRIES) timer = window.setTimeout(ask, RETRY_MS);
        })
        .catch((err) => live && setError(errorText(err)));
    };
    ask();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [api, uid, x, y, points]);
  if (error) return <p className="error small">Peak statistics: {error}</p>;
  if (!stats) return null;
  return (
    <dl className="peak-stats" aria-label={`Peak statistics of ${y}`} data-n={stats.n}>
      <dt>max</dt>
      <dd data-testid="peak-max">
        {show(stats.max[1])} at {x} = {show(stats.max[0])}
      </dd>
      <dt>min</dt>
      <dd data-testid="peak-min">
        {show(stats.min[1])} at {x} = {show(stats.min[0])}
      </dd>
      {stats.note ? (
        <>
          <dt>peak</dt>
          <dd data-testid="peak-note">not bracketed: {stats.note}</dd>
        </>
      ) : (
        <>
          <dt>com</dt>
          <dd data-testid="peak-com">{show(stats.com)}</dd>
          <dt>cen</dt>
          <dd data-testid="peak-cen">{show(stats.cen)}</dd>
          <dt>FWHM</dt>
          <dd data-testid="peak-fwhm">{show(stats.fwhm)}</dd>
        </>
      )}
    </dl>
  );
}
