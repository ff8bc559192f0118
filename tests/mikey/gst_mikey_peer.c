/*
 * gst_mikey_peer: GStreamer's GstMIKEYMessage (gst-plugins-base, gst/sdp/gstmikey.h) as an
 * independent MIKEY implementation for srtpo's interop tests.
 *
 *   gst_mikey_peer create KEY_HEX SALT_HEX SSRC_HEX[,SSRC_HEX...] ROC
 *       builds a PSK_INIT with NULL encryption and NULL MAC (all GStreamer can do), one SP
 *       policy (AES-CM-128 / HMAC-SHA1-80) and one TEK+SALT KEY_DATA; prints its base64.
 *   gst_mikey_peer parse BASE64
 *       parses a message and prints one "field value" line per field (stable, for tests).
 *
 * GStreamer's parser loops forever on some payloads (DH, SIGN, ...): callers use `timeout`.
 */
#include <gst/gst.h>
#include <gst/sdp/gstmikey.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int from_hex(const char *s, guint8 *out, int cap) {
	int n = 0;
	size_t len = strlen(s);
	if (len % 2) return -1;
	for (size_t i = 0; i < len && n < cap; i += 2) {
		unsigned v;
		if (sscanf(s + i, "%2x", &v) != 1) return -1;
		out[n++] = (guint8)v;
	}
	return n;
}

static void print_hex(const char *name, const guint8 *b, guint n) {
	printf("%s ", name);
	for (guint i = 0; i < n; i++) printf("%02x", b[i]);
	printf("\n");
}

static int do_create(int argc, char **argv) {
	guint8 key[64], salt[64];
	if (argc != 6) return 2;
	int kl = from_hex(argv[2], key, sizeof key), sl = from_hex(argv[3], salt, sizeof salt);
	if (kl <= 0 || sl <= 0) return 2;
	guint32 roc = (guint32)strtoul(argv[5], NULL, 10);
	GstMIKEYMessage *m = gst_mikey_message_new();
	gst_mikey_message_set_info(m, GST_MIKEY_VERSION, GST_MIKEY_TYPE_PSK_INIT, FALSE, GST_MIKEY_PRF_MIKEY_1,
	                           0x01020304, GST_MIKEY_MAP_TYPE_SRTP);
	char *ssrcs = g_strdup(argv[4]);
	for (char *tok = strtok(ssrcs, ","); tok; tok = strtok(NULL, ","))
		gst_mikey_message_add_cs_srtp(m, 0, (guint32)strtoul(tok, NULL, 16), roc);
	g_free(ssrcs);
	gst_mikey_message_add_t_now_ntp_utc(m);
	gst_mikey_message_add_rand_len(m, 16);
	GstMIKEYPayload *sp = gst_mikey_payload_new(GST_MIKEY_PT_SP);
	gst_mikey_payload_sp_set(sp, 0, GST_MIKEY_SEC_PROTO_SRTP);
	const guint8 params[][2] = {{GST_MIKEY_SP_SRTP_ENC_ALG, 1}, {GST_MIKEY_SP_SRTP_ENC_KEY_LEN, (guint8)kl},
	                            {GST_MIKEY_SP_SRTP_AUTH_ALG, 1}, {GST_MIKEY_SP_SRTP_AUTH_KEY_LEN, 20},
	                            {GST_MIKEY_SP_SRTP_SALT_KEY_LEN, (guint8)sl}, {GST_MIKEY_SP_SRTP_SRTP_ENC, 1},
	                            {GST_MIKEY_SP_SRTP_SRTCP_ENC, 1}, {GST_MIKEY_SP_SRTP_SRTP_AUTH, 1},
	                            {GST_MIKEY_SP_SRTP_AUTH_TAG_LEN, 10}};
	for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
		gst_mikey_payload_sp_add_param(sp, params[i][0], 1, &params[i][1]);
	gst_mikey_message_add_payload(m, sp);
	GstMIKEYPayload *kemac = gst_mikey_payload_new(GST_MIKEY_PT_KEMAC);
	gst_mikey_payload_kemac_set(kemac, GST_MIKEY_ENC_NULL, GST_MIKEY_MAC_NULL);
	GstMIKEYPayload *kd = gst_mikey_payload_new(GST_MIKEY_PT_KEY_DATA);
	gst_mikey_payload_key_data_set_key(kd, GST_MIKEY_KD_TEK, (guint16)kl, key);
	gst_mikey_payload_key_data_set_salt(kd, (guint16)sl, salt);
	gst_mikey_payload_kemac_add_sub(kemac, kd);
	gst_mikey_message_add_payload(m, kemac);
	gchar *b64 = gst_mikey_message_base64_encode(m);
	if (!b64) return 1;
	printf("%s\n", b64);
	g_free(b64);
	gst_mikey_message_unref(m);
	return 0;
}

static void print_payload(const GstMIKEYPayload *p) {
	switch (p->type) {
	case GST_MIKEY_PT_T: {
		const GstMIKEYPayloadT *t = (const GstMIKEYPayloadT *)p;
		printf("t_type %d\n", t->type);
		print_hex("t_value", t->ts_value, t->type == GST_MIKEY_TS_TYPE_COUNTER ? 4 : 8);
		break;
	}
	case GST_MIKEY_PT_RAND: {
		const GstMIKEYPayloadRAND *r = (const GstMIKEYPayloadRAND *)p;
		print_hex("rand", r->rand, r->len);
		break;
	}
	case GST_MIKEY_PT_SP: {
		const GstMIKEYPayloadSP *sp = (const GstMIKEYPayloadSP *)p;
		printf("sp %u %d\n", sp->policy, sp->proto);
		for (guint i = 0; i < gst_mikey_payload_sp_get_n_params(p); i++) {
			const GstMIKEYPayloadSPParam *q = gst_mikey_payload_sp_get_param(p, i);
			printf("sp_param %u ", q->type);
			print_hex("", q->val, q->len);
		}
		break;
	}
	case GST_MIKEY_PT_KEMAC: {
		const GstMIKEYPayloadKEMAC *k = (const GstMIKEYPayloadKEMAC *)p;
		printf("kemac %d %d\n", k->enc_alg, k->mac_alg);
		for (guint i = 0; i < gst_mikey_payload_kemac_get_n_sub(p); i++) {
			const GstMIKEYPayloadKeyData *kd = (const GstMIKEYPayloadKeyData *)gst_mikey_payload_kemac_get_sub(p, i);
			printf("key_type %d\n", kd->key_type);
			print_hex("key", kd->key_data, kd->key_len);
			if (kd->salt_len) print_hex("salt", kd->salt_data, kd->salt_len);
			printf("kv %d\n", kd->kv_type);
		}
		break;
	}
	default:
		printf("payload %d\n", p->type);
	}
}

static int do_parse(const char *b64) {
	GError *err = NULL;
	gsize n = 0;
	guchar *raw = g_base64_decode(b64, &n);
	GBytes *bytes = g_bytes_new_take(raw, n);
	GstMIKEYMessage *m = gst_mikey_message_new_from_bytes(bytes, NULL, &err);
	g_bytes_unref(bytes);
	if (!m) {
		fprintf(stderr, "gstreamer rejected the message: %s\n", err ? err->message : "?");
		return 1;
	}
	printf("version %u\ntype %d\nv %d\nprf %d\ncsb_id %08x\nmap_type %d\n", m->version, m->type, m->V, m->prf_func,
	       m->CSB_id, m->map_type);
	for (guint i = 0; i < gst_mikey_message_get_n_cs(m); i++) {
		const GstMIKEYMapSRTP *cs = gst_mikey_message_get_cs_srtp(m, i);
		printf("cs %u %08x %u\n", cs->policy, cs->ssrc, cs->roc);
	}
	for (guint i = 0; i < gst_mikey_message_get_n_payloads(m); i++) print_payload(gst_mikey_message_get_payload(m, i));
	gst_mikey_message_unref(m);
	return 0;
}

int main(int argc, char **argv) {
	gst_init(NULL, NULL);
	if (argc >= 2 && !strcmp(argv[1], "create")) return do_create(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "parse")) return do_parse(argv[2]);
	fprintf(stderr, "usage: %s create KEY_HEX SALT_HEX SSRC_HEX[,..] ROC | parse BASE64\n", argv[0]);
	return 2;
}
