/*
 * bzrtp_harness.c - a ZRTP peer built on Linphone's bzrtp, for interop tests of srtp-offload's
 * ZRTP endpoint (tests/zrtp/zrtp_interop_test.cpp).
 *
 * Copyright (C) 2026 the srtp-offload authors
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation, either version 3
 * of the License, or (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY;
 * without even the implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE. See
 * the GNU General Public License for more details. You should have received a copy of the GNU
 * General Public License along with this program. If not, see <https://www.gnu.org/licenses/>.
 *
 * Licence boundary: libbzrtp is GPL-3+, so this is a separate, test-only executable. It talks to
 * the code under test only through loopback UDP and its stdout; nothing of srtp-offload links
 * it, and it links nothing of srtp-offload.
 *
 * What it does: runs one bzrtp context with 1 or 2 channels (streams). Stream k uses local port
 * LOCAL+2k and remote port REMOTE+2k, SSRC+k. When a stream is secure it prints
 *   SECURE stream=K sas=S ka=.. hash=.. cipher=.. auth=.. sasalgo=.. cache_mismatch=0|1
 *   KEYS stream=K tx=<hex key||salt> rx=<hex key||salt>
 * then sends --srtp N RTP packets protected by libsrtp2 with the tx key, and authenticates every
 * non-ZRTP datagram it receives with the rx key, printing
 *   SRTP stream=K sent=N ok=M bad=B
 * at the end, and "RESULT: OK" (exit 0) when every stream is secure and, with --srtp, at least one
 * peer packet per stream authenticated; otherwise "RESULT: FAIL ..." (exit 1). verified= is the
 * SAS-verified state bzrtp reports from its cache; --verify-sas 1 marks the SAS verified once
 * stream 0 is secure (as a user pressing "verified" would).
 * Options: --local P --remote P [--ssrc HEX] [--ka DH3k|DH2k|X255|X448] [--hash S256|S384]
 *   [--cipher AES1|AES3] [--auth HS32|HS80] [--sas B32|B256] [--streams 1|2] [--srtp N]
 *   [--timeout-ms N] [--linger-ms N] [--drop PCT] [--cache SQLITE_FILE] [--verify-sas 1]
 *   [--peer-hello-hash "1.10 HEX"] [--self-hash-file F] [--local-addr IPV4] [--remote-addr IPV4]
 * The addresses default to 127.0.0.1; scripts/demo-zrtp.sh runs the harness in a network
 * namespace that reaches srtpo-cp through srtpo-pmd, so it binds and sends elsewhere.
 */
#include <bzrtp/bzrtp.h>
#include <srtp2/srtp.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_STREAMS 2

struct stream {
	int fd;
	struct sockaddr_in peer;
	uint32_t ssrc;
	int started, secure, printed;
	uint8_t tx[64], rx[64];
	int txlen, rxlen, keylen;
	uint8_t cipher, auth;
	char sas[64];
	int cache_mismatch;
	srtp_t srtp_tx, srtp_rx;
	int sent, ok, bad;
	uint16_t seq;
};

static struct stream streams[MAX_STREAMS];
static int nstreams = 1, drop_pct = 0;

static uint64_t now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int lose(void) { return drop_pct > 0 && rand() % 100 < drop_pct; }

static int on_send(void *cd, const uint8_t *p, uint16_t len) {
	struct stream *s = cd;
	if (lose()) return 0;
	return sendto(s->fd, p, len, 0, (struct sockaddr *)&s->peer, sizeof s->peer) == len ? 0 : -1;
}

static int on_secrets(void *cd, const bzrtpSrtpSecrets_t *k, uint8_t part) {
	struct stream *s = cd;
	if (part & ZRTP_SRTP_SECRETS_FOR_SENDER) {
		memcpy(s->tx, k->selfSrtpKey, k->selfSrtpKeyLength);
		memcpy(s->tx + k->selfSrtpKeyLength, k->selfSrtpSalt, k->selfSrtpSaltLength);
		s->txlen = k->selfSrtpKeyLength + k->selfSrtpSaltLength;
		s->keylen = k->selfSrtpKeyLength;
	}
	if (part & ZRTP_SRTP_SECRETS_FOR_RECEIVER) {
		memcpy(s->rx, k->peerSrtpKey, k->peerSrtpKeyLength);
		memcpy(s->rx + k->peerSrtpKeyLength, k->peerSrtpSalt, k->peerSrtpSaltLength);
		s->rxlen = k->peerSrtpKeyLength + k->peerSrtpSaltLength;
	}
	return 0;
}

static const char *algo_name(uint8_t v) {
	switch (v) {
	case ZRTP_HASH_S256: return "S256";
	case ZRTP_HASH_S384: return "S384";
	case ZRTP_CIPHER_AES1: return "AES1";
	case ZRTP_CIPHER_AES3: return "AES3";
	case ZRTP_AUTHTAG_HS32: return "HS32";
	case ZRTP_AUTHTAG_HS80: return "HS80";
	case ZRTP_KEYAGREEMENT_DH2k: return "DH2k";
	case ZRTP_KEYAGREEMENT_DH3k: return "DH3k";
	case ZRTP_KEYAGREEMENT_X255: return "X255";
	case ZRTP_KEYAGREEMENT_X448: return "X448";
	case ZRTP_KEYAGREEMENT_Mult: return "Mult";
	case ZRTP_SAS_B32: return "B32";
	case ZRTP_SAS_B256: return "B256";
	default: return "?";
	}
}

static uint8_t algo_value(const char *n) {
	static const struct { const char *n; uint8_t v; } t[] = {
		{"S256", ZRTP_HASH_S256}, {"S384", ZRTP_HASH_S384}, {"AES1", ZRTP_CIPHER_AES1},
		{"AES3", ZRTP_CIPHER_AES3}, {"HS32", ZRTP_AUTHTAG_HS32}, {"HS80", ZRTP_AUTHTAG_HS80},
		{"DH2k", ZRTP_KEYAGREEMENT_DH2k}, {"DH3k", ZRTP_KEYAGREEMENT_DH3k},
		{"X255", ZRTP_KEYAGREEMENT_X255}, {"X448", ZRTP_KEYAGREEMENT_X448},
		{"B32", ZRTP_SAS_B32}, {"B256", ZRTP_SAS_B256}};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strcmp(t[i].n, n) == 0) return t[i].v;
	fprintf(stderr, "bzrtp_harness: unknown algorithm %s\n", n);
	exit(2);
}

static int on_start(void *cd, const bzrtpSrtpSecrets_t *k, int32_t verified) {
	struct stream *s = cd;
	snprintf(s->sas, sizeof s->sas, "%s", k->sas ? k->sas : "-");
	s->cipher = k->cipherAlgo;
	s->auth = k->authTagAlgo;
	s->cache_mismatch = k->cacheMismatch;
	printf("SECURE stream=%d sas=%s ka=%s hash=%s cipher=%s auth=%s sasalgo=%s cache_mismatch=%d verified=%d\n",
	       (int)(s - streams), s->sas, algo_name(k->keyAgreementAlgo), algo_name(k->hashAlgo),
	       algo_name(k->cipherAlgo), algo_name(k->authTagAlgo), algo_name(k->sasAlgo), k->cacheMismatch,
	       verified ? 1 : 0);
	s->secure = 1;
	return 0;
}

static int on_status(void *cd, const uint8_t lvl, const uint8_t id, const char *m) {
	(void)cd;
	fprintf(stderr, "bzrtp status level=%u id=%u %s\n", lvl, id, m ? m : "");
	return 0;
}

static void hex(const uint8_t *b, int n) {
	for (int i = 0; i < n; i++) printf("%02x", b[i]);
}

static void srtp_policy(struct stream *s, srtp_policy_t *p, uint8_t *key, int out) {
	memset(p, 0, sizeof *p);
	if (s->cipher == ZRTP_CIPHER_AES3) {
		if (s->auth == ZRTP_AUTHTAG_HS32) srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&p->rtp);
		else srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtcp);
	} else {
		if (s->auth == ZRTP_AUTHTAG_HS32) srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		else srtp_crypto_policy_set_rtp_default(&p->rtp);
		srtp_crypto_policy_set_rtcp_default(&p->rtcp);
	}
	p->ssrc.type = out ? ssrc_any_outbound : ssrc_any_inbound;
	p->key = key;
	p->window_size = 1024;
}

static int open_socket(const char *addr, int port) {
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "bzrtp_harness: bad address %s\n", addr);
		exit(2);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("bzrtp_harness: bind");
		exit(2);
	}
	return fd;
}

static void send_rtp(struct stream *s) {
	uint8_t pkt[256];
	memset(pkt, 0xd5, sizeof pkt);
	pkt[0] = 0x80;
	pkt[1] = 0x00;
	pkt[2] = (uint8_t)(s->seq >> 8);
	pkt[3] = (uint8_t)s->seq;
	uint32_t ts = 160u * (uint32_t)s->sent;
	pkt[4] = (uint8_t)(ts >> 24); pkt[5] = (uint8_t)(ts >> 16); pkt[6] = (uint8_t)(ts >> 8); pkt[7] = (uint8_t)ts;
	pkt[8] = (uint8_t)(s->ssrc >> 24); pkt[9] = (uint8_t)(s->ssrc >> 16);
	pkt[10] = (uint8_t)(s->ssrc >> 8); pkt[11] = (uint8_t)s->ssrc;
	int len = 12 + 160;
	if (srtp_protect(s->srtp_tx, pkt, &len) == srtp_err_status_ok) {
		sendto(s->fd, pkt, (size_t)len, 0, (struct sockaddr *)&s->peer, sizeof s->peer);
		s->sent++;
		s->seq++;
	}
}

int main(int argc, char **argv) {
	int local = 0, remote = 0, timeout_ms = 10000, linger_ms = 600, nsrtp = 0, verify_sas = 0, verified_done = 0;
	uint32_t ssrc = 0x0b0b0b0b;
	uint8_t ka = ZRTP_KEYAGREEMENT_DH3k, hash = ZRTP_HASH_S256, cipher = ZRTP_CIPHER_AES1,
		auth = ZRTP_AUTHTAG_HS80, sas = ZRTP_SAS_B32;
	const char *peer_hash = NULL, *self_hash_file = NULL, *cache_file = NULL;
	const char *local_addr = "127.0.0.1", *remote_addr = "127.0.0.1";
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];
		if (!strcmp(o, "--local")) local = atoi(v);
		else if (!strcmp(o, "--remote")) remote = atoi(v);
		else if (!strcmp(o, "--ssrc")) ssrc = (uint32_t)strtoul(v, NULL, 16);
		else if (!strcmp(o, "--ka")) ka = algo_value(v);
		else if (!strcmp(o, "--hash")) hash = algo_value(v);
		else if (!strcmp(o, "--cipher")) cipher = algo_value(v);
		else if (!strcmp(o, "--auth")) auth = algo_value(v);
		else if (!strcmp(o, "--sas")) sas = algo_value(v);
		else if (!strcmp(o, "--streams")) nstreams = atoi(v) == 2 ? 2 : 1;
		else if (!strcmp(o, "--srtp")) nsrtp = atoi(v);
		else if (!strcmp(o, "--timeout-ms")) timeout_ms = atoi(v);
		else if (!strcmp(o, "--linger-ms")) linger_ms = atoi(v);
		else if (!strcmp(o, "--drop")) drop_pct = atoi(v);
		else if (!strcmp(o, "--cache")) cache_file = v;
		else if (!strcmp(o, "--verify-sas")) verify_sas = atoi(v);
		else if (!strcmp(o, "--peer-hello-hash")) peer_hash = v;
		else if (!strcmp(o, "--self-hash-file")) self_hash_file = v;
		else if (!strcmp(o, "--local-addr")) local_addr = v;
		else if (!strcmp(o, "--remote-addr")) remote_addr = v;
		else { fprintf(stderr, "bzrtp_harness: unknown option %s\n", o); return 2; }
	}
	if (!local || !remote) { fprintf(stderr, "bzrtp_harness: need --local and --remote\n"); return 2; }
	setvbuf(stdout, NULL, _IOLBF, 0);
	srand((unsigned)(now_ms() ^ (uint64_t)getpid()));
	srtp_init();

	for (int k = 0; k < nstreams; k++) {
		struct stream *s = &streams[k];
		s->fd = open_socket(local_addr, local + 2 * k);
		s->peer.sin_family = AF_INET;
		s->peer.sin_port = htons((uint16_t)(remote + 2 * k));
		if (inet_pton(AF_INET, remote_addr, &s->peer.sin_addr) != 1) {
			fprintf(stderr, "bzrtp_harness: bad address %s\n", remote_addr);
			return 2;
		}
		s->ssrc = ssrc + (uint32_t)k;
		s->seq = 1000;
	}

	bzrtpCallbacks_t cb;
	memset(&cb, 0, sizeof cb);
	cb.bzrtp_statusMessage = on_status;
	cb.bzrtp_messageLevel = BZRTP_MESSAGE_WARNING;
	cb.bzrtp_sendData = on_send;
	cb.bzrtp_srtpSecretsAvailable = on_secrets;
	cb.bzrtp_startSrtpSession = on_start;
	bzrtpContext_t *ctx = bzrtp_createBzrtpContext();
	bzrtp_setCallbacks(ctx, &cb);
	void *db = NULL;
	if (cache_file) {
		/* libbzrtp links libsqlite3 itself; borrow its sqlite3_open rather than a -dev package. */
		int (*op)(const char *, void **) = NULL;
		*(void **)(&op) = dlsym(RTLD_DEFAULT, "sqlite3_open");
		if (!op || op(cache_file, &db) != 0) { fprintf(stderr, "bzrtp_harness: cannot open cache\n"); return 2; }
		bzrtp_initCache_lock(db, NULL);
	}
	bzrtp_setZIDCache_lock(ctx, db, "sip:bzrtp@127.0.0.1", "sip:srtpo@127.0.0.1", NULL);
	uint8_t v[7] = {0};
	v[0] = ka; bzrtp_setSupportedCryptoTypes(ctx, ZRTP_KEYAGREEMENT_TYPE, v, 1);
	v[0] = hash; bzrtp_setSupportedCryptoTypes(ctx, ZRTP_HASH_TYPE, v, 1);
	v[0] = cipher; bzrtp_setSupportedCryptoTypes(ctx, ZRTP_CIPHERBLOCK_TYPE, v, 1);
	v[0] = auth; bzrtp_setSupportedCryptoTypes(ctx, ZRTP_AUTHTAG_TYPE, v, 1);
	v[0] = sas; bzrtp_setSupportedCryptoTypes(ctx, ZRTP_SAS_TYPE, v, 1);
	if (bzrtp_initBzrtpContext(ctx, streams[0].ssrc) != 0) { fprintf(stderr, "bzrtp_harness: init failed\n"); return 2; }
	bzrtp_setClientData(ctx, streams[0].ssrc, &streams[0]);

	uint8_t hh[128];
	bzrtp_getSelfHelloHash(ctx, streams[0].ssrc, hh, sizeof hh);
	printf("ZRTP-HASH %s\n", hh);
	if (self_hash_file) {
		char tmp[512];
		snprintf(tmp, sizeof tmp, "%s.tmp", self_hash_file);
		FILE *f = fopen(tmp, "w");
		if (f) { fprintf(f, "%s\n", hh); fclose(f); rename(tmp, self_hash_file); }
	}
	if (peer_hash && bzrtp_setPeerHelloHash(ctx, streams[0].ssrc, (uint8_t *)peer_hash, strlen(peer_hash)) != 0)
		fprintf(stderr, "bzrtp_harness: bad --peer-hello-hash\n");
	bzrtp_startChannelEngine(ctx, streams[0].ssrc);
	streams[0].started = 1;

	uint64_t t0 = now_ms(), t_all_secure = 0, last_rtp = 0;
	uint8_t buf[2048];
	for (;;) {
		uint64_t t = now_ms();
		int all_secure = 1;
		for (int k = 0; k < nstreams; k++) all_secure &= streams[k].secure;
		if (all_secure && !t_all_secure) t_all_secure = t;
		if (!all_secure && t - t0 > (uint64_t)timeout_ms) break;
		if (all_secure && t - t_all_secure > (uint64_t)linger_ms) break;

		struct pollfd pf[MAX_STREAMS];
		for (int k = 0; k < nstreams; k++) { pf[k].fd = streams[k].fd; pf[k].events = POLLIN; pf[k].revents = 0; }
		poll(pf, (nfds_t)nstreams, 5);
		for (int k = 0; k < nstreams; k++) {
			struct stream *s = &streams[k];
			if (!(pf[k].revents & POLLIN)) continue;
			ssize_t n = recv(s->fd, buf, sizeof buf, 0);
			if (n < 12) continue;
			if (buf[4] == 'Z' && buf[5] == 'R' && buf[6] == 'T' && buf[7] == 'P') {
				if (s->started && !lose()) bzrtp_processMessage(ctx, s->ssrc, buf, (uint16_t)n);
			} else if (s->srtp_rx) {
				int len = (int)n;
				if (srtp_unprotect(s->srtp_rx, buf, &len) == srtp_err_status_ok) s->ok++;
				else s->bad++;
			}
		}
		t = now_ms();
		for (int k = 0; k < nstreams; k++)
			if (streams[k].started) bzrtp_iterate(ctx, streams[k].ssrc, t);
		if (verify_sas && streams[0].secure && !verified_done) {
			bzrtp_SASVerified(ctx);
			verified_done = 1;
		}
		/* The second stream joins once the first is secure, as a call adds video (§4.4.3). */
		if (nstreams == 2 && streams[0].secure && !streams[1].started) {
			bzrtp_addChannel(ctx, streams[1].ssrc);
			bzrtp_setClientData(ctx, streams[1].ssrc, &streams[1]);
			bzrtp_startChannelEngine(ctx, streams[1].ssrc);
			streams[1].started = 1;
		}
		for (int k = 0; k < nstreams; k++) {
			struct stream *s = &streams[k];
			if (s->secure && !s->printed) {
				s->printed = 1;
				printf("KEYS stream=%d tx=", k); hex(s->tx, s->txlen);
				printf(" rx="); hex(s->rx, s->rxlen); printf("\n");
				if (nsrtp) {
					srtp_policy_t p;
					srtp_policy(s, &p, s->tx, 1); srtp_create(&s->srtp_tx, &p);
					srtp_policy(s, &p, s->rx, 0); srtp_create(&s->srtp_rx, &p);
				}
			}
			if (s->srtp_tx && s->sent < nsrtp && t - last_rtp >= 5) { send_rtp(s); last_rtp = t; }
		}
	}
	int ok = 1;
	for (int k = 0; k < nstreams; k++) {
		struct stream *s = &streams[k];
		if (nsrtp) printf("SRTP stream=%d sent=%d ok=%d bad=%d\n", k, s->sent, s->ok, s->bad);
		if (!s->secure || (nsrtp && s->ok == 0)) ok = 0;
	}
	printf("RESULT: %s\n", ok ? "OK" : "FAIL");
	bzrtp_destroyBzrtpContext(ctx, streams[0].ssrc);
	if (db) {
		int (*cl)(void *) = NULL;
		*(void **)(&cl) = dlsym(RTLD_DEFAULT, "sqlite3_close");
		if (cl) cl(db);
	}
	return ok ? 0 : 1;
}
