#!/usr/bin/env python3
"""Prints docs/perf.md's results table from a run's bench.json (default docs/bench/bench.json)."""
import json
import sys

d = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "docs/bench/bench.json"))
met = {t["name"]: t for t in d["targets"]}


def verdict(name):
    t = met.get(name)
    if t is None:
        return ""
    return f"<= {t['limit']:g} {t['unit']}: " + ("met" if t["met"] else "**missed**")


rows = [("figure", "service", "null server", "ratio", "target"), ("---",) * 5]
for key, label in [("get_address", "`getAddress`"), ("read_register", "register read"),
                   ("write_read", "`writeRead`"), ("transfer_42", "42-message transfer")]:
    c = d["calls"][key]
    s, n = c["service"], c["null"]
    rows.append((f"{label} median / p99", f"{s['p50_us']:.1f} / {s['p99_us']:.1f} µs",
                 f"{n['p50_us']:.1f} / {n['p99_us']:.1f} µs", f"{c['ratio_to_null_same_call']:.3f}x",
                 verdict(f"{key} median / null server")))
tp = d["throughput"]
rows.append(("throughput, " + " / ".join(str(t["client_threads"]) for t in tp) + " threads",
             " / ".join(f"{t['service_calls_per_s'] / 1000:.1f}" for t in tp) + " k/s",
             " / ".join(f"{t['null_calls_per_s'] / 1000:.1f}" for t in tp) + " k/s",
             " / ".join(f"{t['ratio']:.2f}" for t in tp), ""))
so = d["session_open"]
rows.append(("session open median at " + " / ".join(f"{lv['open_sessions']:,}" for lv in so["levels"]),
             " / ".join(f"{lv['p50_us']:.1f}" for lv in so["levels"]) + " µs", "",
             f"{so['ratio_highest_to_lowest']:.3f}x (highest vs lowest)",
             verdict(f"session open at {so['levels'][-1]['open_sessions']} / at {so['levels'][0]['open_sessions']}")))
mi = d["memory_idle"]
rows.append(("RSS idle", f"{mi['rss_bytes'] / 2**20:.2f} MiB, {mi['threads']} threads", "", "", verdict("rss idle")))
per = met.get("memory per session")
if per:
    rows.append(("memory per session", f"{per['value'] * 1024:,.0f} bytes", "", "", verdict("memory per session")))
cn = d["connections"]
rows.append((f"per client connection ({cn['count']})", f"{cn['rss_bytes_per_connection'] / 1024:.1f} KiB, "
             f"{cn['threads_per_connection']:g} threads", "", "", ""))
fa = d["fairness"]
rows.append(("victim p99 alone / hammered", f"{fa['victim_solo']['p99_us']:.0f} / {fa['victim_hammered']['p99_us']:.0f} µs",
             "", f"{fa['p99_ratio']:.2f}x", verdict("victim p99 hammered / solo")))
floor = fa.get("null_server")
if floor:
    rows.append(("the same on the null server (the machine's floor)", "",
                 f"{floor['victim_solo']['p99_us']:.0f} / {floor['victim_hammered']['p99_us']:.0f} µs",
                 f"{floor['p99_ratio']:.2f}x", ""))
for variant, label, tname in [("all_clients_running", "all running", "removal all running"),
                              ("one_client_stopped", "one stopped", "removal one client stopped")]:
    r = d["removal"][variant]
    for key, what, target in [("fd_closed", "fd closed", f"{tname}: fds closed p99"),
                              ("last_callback_dispatched", "last callback dispatched",
                               f"{tname}: last callback dispatched p99"),
                              ("last_callback_received", "last callback received", None)]:
        f = r[key]
        unit, div = ("µs", 1) if key == "fd_closed" else ("ms", 1000)
        rows.append((f"removal, {label}: {what} p50 / p99", f"{f['p50_us'] / div:.{0 if div == 1 else 1}f} / "
                     f"{f['p99_us'] / div:.{0 if div == 1 else 1}f} {unit}", "", "",
                     verdict(target) if target else ""))
fl = d["removal"].get("floor")
if fl:
    fd, fr = fl["last_callback_dispatched"], fl["last_callback_received"]
    rows.append(("removal floor (null server, a plain loop): last callback dispatched p50 / p99", "",
                 f"{fd['p50_us'] / 1000:.1f} / {fd['p99_us'] / 1000:.1f} ms",
                 "" if fl["service_dispatched_p99_ratio"] is None
                 else f"{fl['service_dispatched_p99_ratio']:.2f}x (service all running, p99)", ""))
    rows.append(("removal floor: last callback received p50 / p99", "",
                 f"{fr['p50_us'] / 1000:.1f} / {fr['p99_us'] / 1000:.1f} ms", "", ""))
vm = d.get("vm")
if vm:
    rows.append(("QEMU (kernel binder), i2c-stub register read median: service (its `getAddress`)",
                 f"{vm['service']['p50_us']:.0f} µs ({vm['service_get_address']['p50_us']:.0f} µs)",
                 f"direct i2cdev: {vm['direct_i2cdev']['p50_us']:.1f} µs", f"{vm['ratio']:.0f}x", ""))
    if vm.get("null_server"):
        rows.append(("QEMU (kernel binder): the same read on the null server, median", "",
                     f"{vm['null_server']['p50_us']:.0f} µs",
                     f"{vm['ratio_to_null_server']:.2f}x (service / null)", ""))
for r in rows:
    print("| " + " | ".join(r) + " |")
