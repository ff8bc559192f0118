#!/usr/bin/env python3
"""srtpo-cp driven through keying-ctl, as an operator would (issue 5: "keying-ctl error paths:
every invalid request gives its message and exit code"; restarts; SIGHUP; socket permissions).

Usage: cp_daemon_test.py SRTPO_CP KEYING_CTL. Every daemon runs under a deadline and is stopped
by PID; shm names and the socket are unique to this run and removed at the end.
"""
import base64, json, os, signal, socket, stat, subprocess, sys, tempfile, time

CP, KCTL = sys.argv[1], sys.argv[2]
tag = "%d" % os.getpid()
work = tempfile.mkdtemp(prefix="srtpo-cp-test-")
sock = os.path.join(work, "cp.sock")
table = "srtpo-cpd-" + tag
failures = []
procs = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def key(n, seed):
    return base64.b64encode(bytes((seed * 7 + i) & 0xff for i in range(n))).decode()


def start_cp(extra=(), config=None):
    log = open(os.path.join(work, "cp-%d.log" % len(procs)), "w+")
    args = [CP, "--table", table, "--socket", sock, "--capacity", "16"] + list(extra)
    if config:
        args += ["--config", config]
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    p.log = log
    procs.append(p)
    deadline = time.time() + 10
    while time.time() < deadline:
        if os.path.exists(sock):
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(sock)
                s.close()
                return p
            except OSError:
                pass
        if p.poll() is not None:
            break
        time.sleep(0.02)
    raise SystemExit("srtpo-cp did not start: " + read_log(p))


def read_log(p):
    p.log.flush()
    p.log.seek(0)
    return p.log.read()


def kctl(*args, stdin=None):
    r = subprocess.run([KCTL, "--socket", sock] + list(args), input=stdin, capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout, r.stderr


def kjson(*args):
    rc, out, err = kctl("--json", *args)
    return rc, (json.loads(out) if out.strip() else None), err


K80 = key(30, 1)
K80b = key(30, 2)
KGCM = key(28, 3)
try:
    cp = start_cp()
    mode = stat.S_IMODE(os.stat(sock).st_mode)
    check(mode == 0o660, "control socket mode is 0660 (got %o)" % mode)
    shm = "/dev/shm/" + table
    check(stat.S_IMODE(os.stat(shm).st_mode) == 0o600, "session table file is 0600")

    # --- adds, including one from a key file (0600) and one from stdin ---
    keyfile = os.path.join(work, "k.key")
    with open(keyfile, "w") as f:
        f.write("inline:" + K80 + "|2^31|1:4\n")
    os.chmod(keyfile, 0o600)
    rc, out, err = kctl("flow", "add", "--match", "192.0.2.1:5004", "--in-suite", "AES_CM_128_HMAC_SHA1_80", "--in-key", "@" + keyfile,
                        "--out-suite", "AEAD_AES_128_GCM", "--out-key", KGCM, "--send-to", "198.51.100.1:7000")
    check(rc == 0 and "added 192.0.2.1:5004" in out, "flow add transcrypt (key from @file): " + out + err)
    rc, out, err = kctl("flow", "add", "--match", "[2001:db8::1]:6000", "--in-suite", "AES_CM_128_HMAC_SHA1_32", "--in-key", "-",
                        "--rtcp-mux", stdin=K80b + "\n")
    check(rc == 0, "flow add IPv6 unprotect, key from stdin: " + err)

    # --- every invalid request: its code, field, message and exit code 3 ---
    bad = [
        (["--match", "192.0.2.1:5004", "--in-suite", "AES_CM_128_HMAC_SHA1_80", "--in-key", K80], "duplicate", "already a flow"),
        (["--match", "192.0.2.1:5010", "--in-suite", "AES_CM_128_HMAC_SHA1_80", "--in-key", "not*base64"], "invalid_argument",
         "base64"),
        (["--match", "192.0.2.1:5010", "--in-suite", "AES_CM_128_HMAC_SHA1_80", "--in-key", KGCM], "bad_key_length", "needs 30 octets"),
        (["--match", "192.0.2.1:5010", "--in-suite", "AES_CM_128_HMAC_SHA1_99", "--in-key", K80], "unknown_suite", "unknown suite"),
        (["--match", "192.0.2.300:5010", "--in-suite", "AES_CM_128_HMAC_SHA1_80", "--in-key", K80], "invalid_argument", "bad address"),
        (["--match", "192.0.2.1", "--in-suite", "AES_CM_128_HMAC_SHA1_80", "--in-key", K80], "invalid_argument", "port"),
        (["--match", "192.0.2.1:5010", "--send-to", "2001:db8::1:7"], "invalid_argument", "[addr]:port"),
        (["--match", "192.0.2.1:5010", "--in-suite", "AES_CM_128_HMAC_SHA1_80", "--in-key", K80, "--in-window", "16"],
         "invalid_argument", "window"),
        (["--match", "192.0.2.1:5010", "--out-suite", "AES_CM_128_HMAC_SHA1_80", "--out-key", K80, "--auth-only"],
         "invalid_argument", "authenticate_only"),
    ]
    for args, code, text in bad:
        rc, out, err = kctl("flow", "add", *args)
        check(rc == 3 and "(" + code + ")" in err and text in err and K80 not in err and KGCM not in err,
              "refused %s: rc=%d %s" % (code, rc, err.strip()))
    rc, out, err = kctl("flow", "del", "192.0.2.9:1")
    check(rc == 3 and "(not_found)" in err, "delete of an unknown flow: " + err.strip())
    rc, out, err = kctl("flow", "rekey", "192.0.2.9:1", "--in-key", K80)
    check(rc == 3 and "(not_found)" in err, "rekey of an unknown flow: " + err.strip())
    # Usage errors: exit 2, nothing sent.
    for args in (["flow", "add"], ["flow", "add", "--match", "192.0.2.1:1", "--in-key", K80], ["flow", "frobnicate"],
                 ["flow", "rekey", "192.0.2.1:5004"], ["flow", "add", "--match", "192.0.2.1:1", "--in-suite", "X", "--in-key", "@/nonexistent"]):
        rc, out, err = kctl(*args)
        check(rc == 2, "usage error exits 2: %s -> %d %s" % (" ".join(args[:3]), rc, err.strip()[:80]))
    # Unreachable daemon: exit 4.
    r = subprocess.run([KCTL, "--socket", os.path.join(work, "none.sock"), "health"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 4 and "cannot reach srtpo-cp" in r.stderr, "unreachable daemon exits 4: " + r.stderr.strip())

    # --- batch from a file: all-or-nothing ---
    batch = [{"match": "192.0.2.2:%d" % (8000 + 2 * i), "out": {"suite": "AES_CM_128_HMAC_SHA1_80", "key": key(30, 10 + i)}}
             for i in range(5)]
    batch_bad = batch + [{"match": "192.0.2.2:9000", "out": {"suite": "AES_CM_128_HMAC_SHA1_80", "key": "short"}}]
    bf = os.path.join(work, "batch.json")
    with open(bf, "w") as f:
        json.dump(batch_bad, f)
    rc, out, err = kctl("flow", "add", "--file", bf)
    check(rc == 3 and "flows[5].out.key" in err, "a batch with one bad flow is refused and names it: " + err.strip())
    rc, lst, _ = kjson("flow", "list")
    check(rc == 0 and lst["count"] == 2, "and nothing of it was installed (count %s)" % (lst and lst["count"]))
    with open(bf, "w") as f:
        json.dump(batch, f)
    rc, out, err = kctl("flow", "add", "--file", bf)
    check(rc == 0 and "added 5 flows" in out, "the good batch adds 5 flows: " + out.strip())
    big = [{"match": "192.0.2.3:%d" % (10000 + 2 * i)} for i in range(10)]
    with open(bf, "w") as f:
        json.dump(big, f)
    rc, out, err = kctl("flow", "add", "--file", bf)
    check(rc == 3 and "(table_full)" in err and "7 of 16" in err, "table full: " + err.strip())

    # --- show, reveal, rekey, update ---
    rc, out, err = kctl("flow", "show", "192.0.2.1:5004")
    check(rc == 0 and "transcrypt" in out and K80 not in out and "in.mki" in out, "flow show hides keys")
    rc, j, err = kjson("flow", "show", "192.0.2.1:5004", "--reveal-keys")
    check(rc == 0 and j["in"]["key"] == "inline:" + K80 + "|2^31|1:4" and j["out"]["key"] == "inline:" + KGCM,
          "flow show --reveal-keys prints the master keys")
    log = read_log(cp)
    check("revealed" in log and K80 not in log and KGCM not in log, "srtpo-cp logs the reveal, without the keys")
    rc, j, err = kjson("flow", "rekey", "192.0.2.1:5004", "--in-key", "inline:" + K80b + "|2^31|2:4", "--grace", "500")
    check(rc == 0 and j["make_before_break"] is True and j["in"]["mki"] == "2:4", "rekey under a new MKI is make-before-break")
    rc, j, err = kjson("flow", "rekey", "192.0.2.1:5004", "--out-key", key(28, 9))
    check(rc == 0 and j["out"]["suite"] == "AEAD_AES_128_GCM", "out-leg rekey keeps the suite")
    rc, j, err = kjson("flow", "update", "--match", "192.0.2.1:5004", "--in-suite", "AES_CM_128_HMAC_SHA1_80",
                       "--out-suite", "AEAD_AES_128_GCM", "--send-to", "198.51.100.2:7002")
    check(rc == 0 and j["send_to"] == "198.51.100.2:7002", "update without keys keeps them and changes send_to")
    rc, j, err = kjson("health")
    check(rc == 0 and j["table"]["flows"] == 7 and j["table"]["capacity"] == 16, "health reports the table")
    rc, out, err = kctl("stats")
    check(rc == 0 and "192.0.2.1:5004" in out and "not attached" in out, "stats lists the flows (no pmd yet)")

    # --- SIGHUP: reload; a broken config is refused and the running one kept ---
    conf = os.path.join(work, "cp.toml")
    with open(conf, "w") as f:
        f.write('[control]\nmode = "0600"\n[log]\nlevel = "debug"\n')
    cp.send_signal(signal.SIGTERM)
    cp.wait(timeout=10)
    check(cp.returncode == 0 and "stopping on SIGTERM" in read_log(cp), "SIGTERM stops srtpo-cp cleanly")
    check(not os.path.exists(sock), "the socket is removed on a clean stop")
    cp = start_cp(config=conf)
    check("7 flows recovered" in read_log(cp), "a restarted srtpo-cp recovers every flow")
    check(stat.S_IMODE(os.stat(sock).st_mode) == 0o600, "control.mode from the config applies")
    with open(conf, "w") as f:
        f.write('[control]\nmode = "0660"\n')
    cp.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    check(stat.S_IMODE(os.stat(sock).st_mode) == 0o660 and "configuration reloaded" in read_log(cp), "SIGHUP reloads the config")
    with open(conf, "w") as f:
        f.write('[control]\nmode = "rw"\n')
    cp.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    check("reload refused" in read_log(cp) and cp.poll() is None, "a bad config on SIGHUP is refused, the daemon runs on")

    # --- kill -9 and restart: every flow is back, the recovered ones without master keys ---
    cp.send_signal(signal.SIGKILL)
    cp.wait(timeout=10)
    cp = start_cp()
    rc, lst, _ = kjson("flow", "list")
    check(rc == 0 and lst["count"] == 7, "after kill -9 a restarted srtpo-cp sees all 7 flows")
    rc, j, _ = kjson("flow", "show", "192.0.2.1:5004", "--reveal-keys")
    check(rc == 0 and "key" not in j["in"] and j["in"]["key_available"] is False and j["send_to"] == "198.51.100.2:7002",
          "a recovered flow keeps its fields; its master key stayed in the old process")
    rc, out, err = kctl("flow", "del", "192.0.2.1:5004")
    check(rc == 0, "delete after recovery")
    rc, lst, _ = kjson("flow", "list")
    check(lst["count"] == 6, "6 flows left")

    # --- a second srtpo-cp on the same table or socket is refused ---
    r = subprocess.run([CP, "--table", table, "--socket", os.path.join(work, "b.sock"), "--capacity", "16"], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 1 and "table" in r.stdout, "a second writer of the table is refused: " + r.stdout.strip()[-100:])

    # --- garbage on the socket: an error line, never a crash ---
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(b'{"op": "flow.add", "flow": {"match": 7}}\nnot json\n{"op":"nope","id":5}\n[1,2]\n')
    s.shutdown(socket.SHUT_WR)
    data = b""
    s.settimeout(5)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    lines = [json.loads(l) for l in data.decode().splitlines()]
    check(len(lines) == 4 and all(not l["ok"] for l in lines) and lines[2].get("id") == 5 and
          lines[2]["error"]["code"] == "bad_request", "malformed requests get one error line each (id echoed)")
    check(cp.poll() is None, "srtpo-cp survived them")
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    subprocess.run(["rm", "-rf", work])
    for n in (table, table + ".status"):
        try:
            os.unlink("/dev/shm/" + n)
        except FileNotFoundError:
            pass

print("%d checks failed" % len(failures))
sys.exit(1 if failures else 0)
