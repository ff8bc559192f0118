#!/usr/bin/python3
"""Independent reference for the MIKEY crypto (RFC 3830 §4.1-4.2, RFC 4650), written from the
RFC text with python3-cryptography. It is an oracle for srtpo's tests, NOT a third-party MIKEY
peer: no packaged implementation of MIKEY crypto exists (docs/mikey.md).

Reads and writes MIKEY messages with its own minimal codec. Commands print one JSON object:
  kat                                  PRF / key derivation / AES-CM / HMAC known answers
  psk-init PSK_HEX N_STREAMS           I_MESSAGE (PSK, TGK, AES-CM-128, HMAC-SHA-1-160, V=1)
  psk-verify PSK_HEX I_B64 R_B64       checks the V payload of an R_MESSAGE
  psk-respond PSK_HEX I_B64            checks and decrypts an I_MESSAGE, derives the TEKs, answers
  dhhmac-respond PSK_HEX I_B64         RFC 4650 responder
  dhhmac-init PSK_HEX GROUP            RFC 4650 I_MESSAGE (+ private value to finish)
  dhhmac-finish PSK_HEX I_B64 R_B64 PRIV_HEX   checks the R_MESSAGE, derives the TEKs
  pk-respond KEY_PEM I_B64             §3.2 responder: SIGN, CHASH, PKE, KEMAC; answers with V
  pk-init KEY_PEM CERT_PEM PEER_CERT_PEM   §3.2 I_MESSAGE (+ envelope key to check V)
  pk-verify ENV_HEX I_B64 R_B64        checks the V payload of a PK R_MESSAGE
  dh-respond KEY_PEM CERT_PEM I_B64    §3.3 responder: checks SIGNi, answers DHr/DHi signed
  dh-init KEY_PEM CERT_PEM GROUP       §3.3 I_MESSAGE (+ private value to finish)
  dh-finish I_B64 R_B64 PRIV_HEX       checks SIGNr and DHi, derives the TEKs
"""
import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# ---- RFC 3830 §4.1.2 PRF -------------------------------------------------------------------

def hmac_sha1(key, data):
    return hmac.new(key, data, hashlib.sha1).digest()


def p_func(s, label, m):
    out, a = b"", label
    for _ in range(m):
        a = hmac_sha1(s, a)                   # A_i = HMAC(s, A_{i-1}), A_0 = label
        out += hmac_sha1(s, a + label)        # HMAC(s, A_i || label)
    return out


def prf(inkey, label, outlen):
    m = -(-outlen // 20)                      # ceil(outkey_len / 160 bits)
    pieces = [inkey[i:i + 32] for i in range(0, len(inkey), 32)]   # 256-bit pieces
    acc = bytes(m * 20)
    for s in pieces:
        acc = bytes(x ^ y for x, y in zip(acc, p_func(s, label, m)))
    return acc[:outlen]


def label(const, cs_id, csb_id, rand):
    return struct.pack(">IBI", const, cs_id, csb_id) + rand

# §4.1.3 (from the TGK) and §4.1.4 (from the pre-shared / envelope key)
TEK, TEK_SALT = 0x2AD01C64, 0x39A2C14B
MSG_ENCR, MSG_AUTH, MSG_SALT = 0x150533E1, 0x2D22AC75, 0x29B88916


def msg_keys(psk, csb_id, rand):
    return (prf(psk, label(MSG_ENCR, 0xFF, csb_id, rand), 16),
            prf(psk, label(MSG_SALT, 0xFF, csb_id, rand), 14),
            prf(psk, label(MSG_AUTH, 0xFF, csb_id, rand), 20))


def tek_salt(tgk, cs_id, csb_id, rand, klen=16, slen=14):
    return prf(tgk, label(TEK, cs_id, csb_id, rand), klen) + prf(tgk, label(TEK_SALT, cs_id, csb_id, rand), slen)

# ---- §4.2.3 AES-CM ---------------------------------------------------------------------------

def aes_cm(key, salt, csb_id, t_value, data):
    block = b"\x00\x00" + struct.pack(">I", csb_id) + t_value.rjust(8, b"\x00")
    iv = bytes(x ^ y for x, y in zip(salt, block)) + b"\x00\x00"
    c = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return c.update(data) + c.finalize()

# ---- DH groups (§6.4): RFC 3526 group 5, RFC 2409 groups 1 and 2, g = 2 ------------------------

OAKLEY = {
    1: int("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
           "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A3620FFFFFFFFFFFFFFFF", 16),
    2: int("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
           "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
           "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF", 16),
    0: int("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
           "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
           "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
           "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF", 16),
}
DH_LEN = {0: 192, 1: 96, 2: 128}

# ---- minimal MIKEY codec (RFC 3830 §6) -----------------------------------------------------------

def parse(msg):
    ver, dtype, nxt, vprf, csb, ncs, maptype = struct.unpack(">BBBBIBB", msg[:10])
    assert ver == 1 and vprf & 0x7F == 0
    pos, cs = 10, []
    if maptype == 0:
        for _ in range(ncs):
            cs.append(struct.unpack(">BII", msg[pos:pos + 9]))
            pos += 9
    out = {"type": dtype, "v": vprf >> 7, "csb": csb, "cs": cs, "payloads": []}
    while nxt != 0:
        start = pos
        if nxt == 4:                                   # SIGN: no next payload, always last
            tl = struct.unpack(">H", msg[pos:pos + 2])[0]
            out["payloads"].append(("SIGN", {"sig": msg[pos + 2:pos + 2 + (tl & 0xFFF)], "at": pos + 2}))
            pos += 2 + (tl & 0xFFF)
            break
        this, nxt = nxt, msg[pos]
        pos += 1
        if this == 5:                                  # T
            n = 4 if msg[pos] == 2 else 8
            out["payloads"].append(("T", {"type": msg[pos], "value": msg[pos + 1:pos + 1 + n]}))
            pos += 1 + n
        elif this == 11:                               # RAND
            out["payloads"].append(("RAND", msg[pos + 1:pos + 1 + msg[pos]]))
            pos += 1 + msg[pos]
        elif this in (6, 7):                           # ID, CERT
            n = struct.unpack(">H", msg[pos + 1:pos + 3])[0]
            out["payloads"].append(("ID" if this == 6 else "CERT", msg[pos + 3:pos + 3 + n]))
            pos += 3 + n
        elif this == 14:                               # IDR (RFC 6043)
            n = struct.unpack(">H", msg[pos + 2:pos + 4])[0]
            out["payloads"].append(("IDR", {"role": msg[pos], "data": msg[pos + 4:pos + 4 + n]}))
            pos += 4 + n
        elif this == 10:                               # SP
            n = struct.unpack(">H", msg[pos + 2:pos + 4])[0]
            out["payloads"].append(("SP", msg[pos:pos + 4 + n]))
            pos += 4 + n
        elif this == 1:                                # KEMAC
            ea, n = msg[pos], struct.unpack(">H", msg[pos + 1:pos + 3])[0]
            data, ma = msg[pos + 3:pos + 3 + n], msg[pos + 3 + n]
            ml = 20 if ma == 1 else 0
            out["payloads"].append(("KEMAC", {"ea": ea, "data": data, "ma": ma, "mac_at": pos + 4 + n,
                                              "mac": msg[pos + 4 + n:pos + 4 + n + ml]}))
            pos += 4 + n + ml
        elif this == 3:                                # DH, KV null only
            g = msg[pos]
            out["payloads"].append(("DH", {"group": g, "value": msg[pos + 1:pos + 1 + DH_LEN[g]]}))
            pos += 2 + DH_LEN[g]
        elif this == 8:                                # CHASH
            n = 20 if msg[pos] == 0 else 16
            out["payloads"].append(("CHASH", msg[pos + 1:pos + 1 + n]))
            pos += 1 + n
        elif this == 2:                                # PKE
            n = struct.unpack(">H", msg[pos:pos + 2])[0] & 0x3FFF
            out["payloads"].append(("PKE", msg[pos + 2:pos + 2 + n]))
            pos += 2 + n
        elif this == 9:                                # V
            ml = 20 if msg[pos] == 1 else 0
            out["payloads"].append(("V", {"mac_at": pos + 1, "mac": msg[pos + 1:pos + 1 + ml]}))
            pos += 1 + ml
        else:
            raise ValueError("oracle codec: payload %d not handled" % this)
    assert pos == len(msg), "trailing octets"
    return out


def first(m, name):
    return next(v for n, v in m["payloads"] if n == name)


def all_of(m, name):
    return [v for n, v in m["payloads"] if n == name]


def hdr(dtype, v, csb, cs, first_payload):
    h = struct.pack(">BBBBIBB", 1, dtype, first_payload, 0x80 if v else 0, csb, len(cs), 0)
    return h + b"".join(struct.pack(">BII", *c) for c in cs)


def chain(payloads):
    """payloads: list of (type, body); writes next-payload octets."""
    out = b""
    for i, (t, body) in enumerate(payloads):
        nxt = payloads[i + 1][0] if i + 1 < len(payloads) else 0
        out += bytes([nxt]) + body
    return out


def sp_aes_cm_80():
    params = [(0, 1), (1, 16), (2, 1), (3, 20), (4, 14), (5, 0), (7, 1), (8, 1), (9, 0), (10, 1), (11, 10), (12, 0)]
    body = b"".join(bytes([t, 1, v]) for t, v in params) + bytes([6, 4, 0, 0, 0, 0])
    return (10, bytes([0, 0]) + struct.pack(">H", len(body)) + body)


def ntp_now():
    t = time.time()
    return struct.pack(">II", int(t) + 2208988800, int((t % 1) * (1 << 32)))


def ids_of(m):
    """(IDi, IDr) data of an I_MESSAGE: plain ID payloads in order, or IDR roles 1 and 2."""
    idi, idr = b"", b""
    plain = all_of(m, "ID")
    if plain:
        idi = plain[0]
        idr = plain[1] if len(plain) > 1 else b""
    for r in all_of(m, "IDR"):
        if r["role"] == 1:
            idi = r["data"]
        if r["role"] == 2:
            idr = r["data"]
    return idi, idr


def v_suffix(i_msg):
    """RFC 3830 §5.2 as srtpo reads it: V covers R_MESSAGE || IDi || IDr || T of the I_MESSAGE."""
    idi, idr = ids_of(i_msg)
    return idi + idr + first(i_msg, "T")["value"]


def keys_json(keys):
    return [k.hex() for k in keys]

# ---- commands ------------------------------------------------------------------------------------

def cmd_kat():
    out = []
    for inlen in (1, 16, 20, 32, 33, 64, 100, 192):
        for outlen in (14, 16, 20, 21, 32, 46, 100):
            inkey = bytes((i * 7 + inlen) & 0xFF for i in range(inlen))
            lab = label(TEK, 3, 0x01020304, bytes(range(16)))
            out.append({"inkey": inkey.hex(), "label": lab.hex(), "outlen": outlen, "out": prf(inkey, lab, outlen).hex()})
    psk, rand = bytes(range(20)), bytes(range(100, 116))
    e, s, a = msg_keys(psk, 0xCAFEBABE, rand)
    t_value = bytes.fromhex("eeb44b159567caea")
    plain = bytes(range(50))
    ct = aes_cm(e, s, 0xCAFEBABE, t_value, plain)
    return {"prf": out, "msg_keys": {"psk": psk.hex(), "csb": 0xCAFEBABE, "rand": rand.hex(), "encr": e.hex(),
                                     "salt": s.hex(), "auth": a.hex()},
            "aes_cm": {"t": t_value.hex(), "plain": plain.hex(), "cipher": ct.hex()},
            "tek": tek_salt(bytes(range(32)), 2, 0xCAFEBABE, rand).hex(),
            "hmac": hmac_sha1(a, plain).hex()}


def cmd_psk_init(psk, n):
    csb, rand, t_value, tgk = 0x5EED0001, os.urandom(16), ntp_now(), os.urandom(32)
    cs = [(0, 0x2000 + i, i) for i in range(n)]
    kd = bytes([0, 0x00]) + struct.pack(">H", len(tgk)) + tgk      # KEY_DATA: last, TGK, KV null
    e, s, a = msg_keys(psk, csb, rand)
    enc = aes_cm(e, s, csb, t_value, kd)
    kemac = bytes([1]) + struct.pack(">H", len(enc)) + enc + bytes([1])
    body = [(5, bytes([0]) + t_value), (11, bytes([16]) + rand), (6, bytes([1]) + struct.pack(">H", 3) + b"py1"),
            sp_aes_cm_80(), (1, kemac)]
    msg = hdr(0, True, csb, cs, body[0][0]) + chain(body)
    msg += hmac_sha1(a, msg)
    return {"i_message": base64.b64encode(msg).decode(),
            "tek_salt": keys_json(tek_salt(tgk, i + 1, csb, rand) for i in range(n))}


def cmd_psk_verify(psk, i_b64, r_b64):
    i, r = base64.b64decode(i_b64), base64.b64decode(r_b64)
    im, rm = parse(i), parse(r)
    _, _, a = msg_keys(psk, im["csb"], first(im, "RAND"))
    v = first(rm, "V")
    ok = rm["type"] == 1 and rm["csb"] == im["csb"] and hmac.compare_digest(
        hmac_sha1(a, r[:v["mac_at"]] + v_suffix(im)), v["mac"])
    return {"ok": ok}


def cmd_psk_respond(psk, i_b64):
    i = base64.b64decode(i_b64)
    m = parse(i)
    rand, t = first(m, "RAND"), first(m, "T")
    e, s, a = msg_keys(psk, m["csb"], rand)
    k = first(m, "KEMAC")
    if not hmac.compare_digest(hmac_sha1(a, i[:k["mac_at"]]), k["mac"]):
        return {"ok": False, "error": "KEMAC MAC"}
    plain = aes_cm(e, s, m["csb"], t["value"], k["data"]) if k["ea"] == 1 else k["data"]
    ktype, klen = plain[1] >> 4, struct.unpack(">H", plain[2:4])[0]
    key = plain[4:4 + klen]
    if ktype == 0:
        keys = [tek_salt(key, n + 1, m["csb"], rand) for n in range(len(m["cs"]))]
    else:
        slen = struct.unpack(">H", plain[4 + klen:6 + klen])[0]
        keys = [key + plain[6 + klen:6 + klen + slen]] * len(m["cs"])
    r = hdr(1, False, m["csb"], m["cs"], 5) + chain([(5, bytes([0]) + ntp_now()), (9, bytes([1]))])
    r += hmac_sha1(a, r + v_suffix(m))
    return {"ok": True, "tek_salt": keys_json(keys), "r_message": base64.b64encode(r).decode()}


def dh_pair(group):
    p = OAKLEY[group]
    x = int.from_bytes(os.urandom(DH_LEN[group]), "big") % (p - 3) + 2
    return x, pow(2, x, p).to_bytes(DH_LEN[group], "big")


def dh_secret(group, x, peer):
    p = OAKLEY[group]
    y = int.from_bytes(peer, "big")
    assert 1 < y < p - 1
    return pow(y, x, p).to_bytes(DH_LEN[group], "big")


def cmd_dhhmac_respond(psk, i_b64):
    i = base64.b64decode(i_b64)
    m = parse(i)
    rand = first(m, "RAND")
    _, _, a = msg_keys(psk, m["csb"], rand)
    k = first(m, "KEMAC")
    if not hmac.compare_digest(hmac_sha1(a, i[:k["mac_at"]]), k["mac"]):
        return {"ok": False, "error": "KEMAC MAC"}
    dhi = first(m, "DH")
    x, pub = dh_pair(dhi["group"])
    tgk = dh_secret(dhi["group"], x, dhi["value"])
    keys = [tek_salt(tgk, n + 1, m["csb"], rand) for n in range(len(m["cs"]))]
    idi, _ = ids_of(m)
    body = [(5, bytes([0]) + ntp_now())]
    if idi:
        body.append((14, bytes([1, 1]) + struct.pack(">H", len(idi)) + idi))
    body += [(3, bytes([dhi["group"]]) + pub + b"\x00"), (3, bytes([dhi["group"]]) + dhi["value"] + b"\x00"),
             (1, bytes([0, 0, 0, 1]))]
    r = hdr(8, False, m["csb"], m["cs"], body[0][0]) + chain(body)
    r += hmac_sha1(a, r)
    return {"ok": True, "tek_salt": keys_json(keys), "r_message": base64.b64encode(r).decode()}


def cmd_dhhmac_init(psk, group):
    csb, rand = 0x5EED0002, os.urandom(16)
    x, pub = dh_pair(group)
    cs = [(0, 0x3000, 0), (0, 0x3001, 5)]
    body = [(5, bytes([0]) + ntp_now()), (11, bytes([16]) + rand), sp_aes_cm_80(),
            (3, bytes([group]) + pub + b"\x00"), (1, bytes([0, 0, 0, 1]))]
    msg = hdr(7, True, csb, cs, body[0][0]) + chain(body)
    _, _, a = msg_keys(psk, csb, rand)
    msg += hmac_sha1(a, msg)
    return {"i_message": base64.b64encode(msg).decode(), "priv": format(x, "x")}


def cmd_dhhmac_finish(psk, i_b64, r_b64, priv):
    i, r = base64.b64decode(i_b64), base64.b64decode(r_b64)
    im, rm = parse(i), parse(r)
    rand = first(im, "RAND")
    _, _, a = msg_keys(psk, im["csb"], rand)
    k = first(rm, "KEMAC")
    if rm["type"] != 8 or not hmac.compare_digest(hmac_sha1(a, r[:k["mac_at"]]), k["mac"]):
        return {"ok": False, "error": "response MAC"}
    dhr, dhi = all_of(rm, "DH")
    if dhi["value"] != first(im, "DH")["value"]:
        return {"ok": False, "error": "DHi echo"}
    tgk = dh_secret(dhr["group"], int(priv, 16), dhr["value"])
    return {"ok": True, "tek_salt": keys_json(tek_salt(tgk, n + 1, im["csb"], rand) for n in range(len(im["cs"])))}


def key_data_list(plain, leading_id):
    """KEMAC plaintext (§6.2, §6.13): [ID] then KEY_DATA sub-payloads; returns [(type, key, salt)]."""
    pos, cur, out = 0, 6 if leading_id else 20, []
    while True:
        nxt = plain[pos]
        if cur == 6:
            n = struct.unpack(">H", plain[pos + 2:pos + 4])[0]
            pos += 4 + n
        else:
            ktype, kv = plain[pos + 1] >> 4, plain[pos + 1] & 15
            klen = struct.unpack(">H", plain[pos + 2:pos + 4])[0]
            key, pos, salt = plain[pos + 4:pos + 4 + klen], pos + 4 + klen, b""
            if ktype in (1, 3):
                slen = struct.unpack(">H", plain[pos:pos + 2])[0]
                salt, pos = plain[pos + 2:pos + 2 + slen], pos + 2 + slen
            assert kv == 0, "oracle: KV null only"
            out.append((ktype, key, salt))
        if nxt == 0:
            return out
        cur = nxt


def cmd_pk_respond(key_pem, i_b64):
    i = base64.b64decode(i_b64)
    m = parse(i)
    key = serialization.load_pem_private_key(open(key_pem, "rb").read(), None)
    cert = x509.load_der_x509_certificate(first(m, "CERT"))
    sign = first(m, "SIGN")
    cert.public_key().verify(sign["sig"], i[:sign["at"]], padding.PKCS1v15(), hashes.SHA256())
    env = key.decrypt(first(m, "PKE"), padding.PKCS1v15())
    rand, t = first(m, "RAND"), first(m, "T")
    e, s, a = msg_keys(env, m["csb"], rand)
    k = first(m, "KEMAC")
    if not hmac.compare_digest(hmac_sha1(a, i[:k["mac_at"]]), k["mac"]):
        return {"ok": False, "error": "KEMAC MAC"}
    kd = key_data_list(aes_cm(e, s, m["csb"], t["value"], k["data"]), True)
    ktype, tk, salt = kd[0]
    n = len(m["cs"])
    keys = [tek_salt(tk, c + 1, m["csb"], rand) for c in range(n)] if ktype == 0 else [tk + salt] * n
    r = hdr(3, False, m["csb"], m["cs"], 5) + chain([(5, bytes([0]) + ntp_now()), (9, bytes([1]))])
    r += hmac_sha1(a, r + v_suffix(m))
    return {"ok": True, "tek_salt": keys_json(keys), "r_message": base64.b64encode(r).decode()}


def cmd_pk_init(key_pem, cert_pem, peer_cert_pem):
    key = serialization.load_pem_private_key(open(key_pem, "rb").read(), None)
    own = x509.load_pem_x509_certificate(open(cert_pem, "rb").read()).public_bytes(serialization.Encoding.DER)
    peer = x509.load_pem_x509_certificate(open(peer_cert_pem, "rb").read())
    csb, rand, t_value, tgk, env = 0x5EED0003, os.urandom(16), ntp_now(), os.urandom(16), os.urandom(24)
    cs = [(0, 0x5000, 0), (0, 0x5001, 2)]
    plain = bytes([20, 1]) + struct.pack(">H", 3) + b"py3" + bytes([0, 0x00]) + struct.pack(">H", len(tgk)) + tgk
    e, s, a = msg_keys(env, csb, rand)
    enc = aes_cm(e, s, csb, t_value, plain)
    pke = peer.public_key().encrypt(env, padding.PKCS1v15())
    body = [(5, bytes([0]) + t_value), (11, bytes([16]) + rand), (7, bytes([2]) + struct.pack(">H", len(own)) + own),
            sp_aes_cm_80(), (1, bytes([1]) + struct.pack(">H", len(enc)) + enc + bytes([1]) + bytes(20)),
            (8, bytes([0]) + hashlib.sha1(peer.public_bytes(serialization.Encoding.DER)).digest()),
            (2, struct.pack(">H", len(pke)) + pke), (4, b"")]
    msg = bytearray(hdr(2, True, csb, cs, body[0][0]) + chain(body)[:-1])   # SIGN has no next-payload octet
    # The KEMAC MAC ends where CHASH (its next-payload octet and body) and PKE begin.
    chash_start = len(msg) - (1 + len(body[-2][1])) - (1 + len(body[-3][1]))
    mac_at = chash_start - 20
    msg[mac_at:mac_at + 20] = hmac_sha1(a, bytes(msg[:mac_at]))
    siglen = key.key_size // 8
    msg += struct.pack(">H", siglen)                  # S type 0 (PKCS#1 v1.5), length in octets
    msg += key.sign(bytes(msg), padding.PKCS1v15(), hashes.SHA256())
    return {"i_message": base64.b64encode(bytes(msg)).decode(), "env": env.hex(),
            "tek_salt": keys_json(tek_salt(tgk, c + 1, csb, rand) for c in range(len(cs)))}


def cmd_pk_verify(env, i_b64, r_b64):
    i, r = base64.b64decode(i_b64), base64.b64decode(r_b64)
    im, rm = parse(i), parse(r)
    _, _, a = msg_keys(env, im["csb"], first(im, "RAND"))
    v = first(rm, "V")
    ok = rm["type"] == 3 and hmac.compare_digest(hmac_sha1(a, r[:v["mac_at"]] + v_suffix(im)), v["mac"])
    return {"ok": ok}


def verify_sign(msg, m):
    sign = first(m, "SIGN")
    cert = x509.load_der_x509_certificate(first(m, "CERT"))
    cert.public_key().verify(sign["sig"], msg[:sign["at"]], padding.PKCS1v15(), hashes.SHA256())


def signed(msg, key):
    msg += struct.pack(">H", key.key_size // 8)        # S type 0, length in octets
    return msg + key.sign(msg, padding.PKCS1v15(), hashes.SHA256())


def load_identity(key_pem, cert_pem):
    key = serialization.load_pem_private_key(open(key_pem, "rb").read(), None)
    der = x509.load_pem_x509_certificate(open(cert_pem, "rb").read()).public_bytes(serialization.Encoding.DER)
    return key, der


def cmd_dh_respond(key_pem, cert_pem, i_b64):
    i = base64.b64decode(i_b64)
    m = parse(i)
    verify_sign(i, m)
    key, der = load_identity(key_pem, cert_pem)
    dhi, rand = first(m, "DH"), first(m, "RAND")
    x, pub = dh_pair(dhi["group"])
    tgk = dh_secret(dhi["group"], x, dhi["value"])
    body = [(5, bytes([0]) + ntp_now()), (7, bytes([2]) + struct.pack(">H", len(der)) + der),
            (3, bytes([dhi["group"]]) + pub + b"\x00"), (3, bytes([dhi["group"]]) + dhi["value"] + b"\x00"), (4, b"")]
    r = signed(hdr(5, False, m["csb"], m["cs"], 5) + chain(body)[:-1], key)
    return {"ok": True, "r_message": base64.b64encode(r).decode(),
            "tek_salt": keys_json(tek_salt(tgk, c + 1, m["csb"], rand) for c in range(len(m["cs"])))}


def cmd_dh_init(key_pem, cert_pem, group):
    key, der = load_identity(key_pem, cert_pem)
    csb, rand = 0x5EED0004, os.urandom(16)
    x, pub = dh_pair(group)
    body = [(5, bytes([0]) + ntp_now()), (11, bytes([16]) + rand), (7, bytes([2]) + struct.pack(">H", len(der)) + der),
            sp_aes_cm_80(), (3, bytes([group]) + pub + b"\x00"), (4, b"")]
    msg = signed(hdr(4, True, csb, [(0, 0x6000, 0)], 5) + chain(body)[:-1], key)
    return {"i_message": base64.b64encode(msg).decode(), "priv": format(x, "x")}


def cmd_dh_finish(i_b64, r_b64, priv):
    i, r = base64.b64decode(i_b64), base64.b64decode(r_b64)
    im, rm = parse(i), parse(r)
    verify_sign(r, rm)
    dhr, dhi = all_of(rm, "DH")
    if rm["type"] != 5 or dhi["value"] != first(im, "DH")["value"]:
        return {"ok": False, "error": "not a DH response to this I_MESSAGE"}
    tgk = dh_secret(dhr["group"], int(priv, 16), dhr["value"])
    rand = first(im, "RAND")
    return {"ok": True, "tek_salt": keys_json(tek_salt(tgk, c + 1, im["csb"], rand) for c in range(len(im["cs"])))}


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "kat":
        r = cmd_kat()
    elif cmd == "psk-init":
        r = cmd_psk_init(bytes.fromhex(args[0]), int(args[1]))
    elif cmd == "psk-verify":
        r = cmd_psk_verify(bytes.fromhex(args[0]), args[1], args[2])
    elif cmd == "psk-respond":
        r = cmd_psk_respond(bytes.fromhex(args[0]), args[1])
    elif cmd == "dhhmac-respond":
        r = cmd_dhhmac_respond(bytes.fromhex(args[0]), args[1])
    elif cmd == "dhhmac-init":
        r = cmd_dhhmac_init(bytes.fromhex(args[0]), int(args[1]))
    elif cmd == "dhhmac-finish":
        r = cmd_dhhmac_finish(bytes.fromhex(args[0]), args[1], args[2], args[3])
    elif cmd == "pk-respond":
        r = cmd_pk_respond(args[0], args[1])
    elif cmd == "pk-init":
        r = cmd_pk_init(args[0], args[1], args[2])
    elif cmd == "pk-verify":
        r = cmd_pk_verify(bytes.fromhex(args[0]), args[1], args[2])
    elif cmd == "dh-respond":
        r = cmd_dh_respond(args[0], args[1], args[2])
    elif cmd == "dh-init":
        r = cmd_dh_init(args[0], args[1], int(args[2]))
    elif cmd == "dh-finish":
        r = cmd_dh_finish(args[0], args[1], args[2])
    else:
        raise SystemExit(__doc__)
    print(json.dumps(r))


if __name__ == "__main__":
    main(sys.argv)
