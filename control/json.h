/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tiny streaming JSON writer for `nprouter-control --json`: values go straight to a FILE,
 * so a dump of a million routes needs no memory. The caller nests begin/end calls properly;
 * the writer only tracks where commas go. Output is compact, one document, newline at the end.
 * Used by the CLI and by `apply` (its summary). One writer per document; no locking.
 *
 * Strings are escaped one of two ways, chosen per writer: JSON_ASCII (json_init) escapes every
 * byte outside printable ASCII as \u00XX ('\n' as \n), so that names read from the data plane
 * keep the document valid whatever they are; JSON_UTF8 escapes only control characters, as
 * \u00XX, and passes other bytes through, for text the user gave (file names).
 */
#ifndef NPR_CTL_JSON_H
#define NPR_CTL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

enum json_text { JSON_ASCII, JSON_UTF8 };

struct json {
	FILE *f;
	enum json_text text;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
};

void json_init(struct json *j, FILE *f); /* JSON_ASCII */
void json_init_text(struct json *j, FILE *f, enum json_text text);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_double(struct json *j, double v);		 /* %.6g; null if not finite */
void json_fixed(struct json *j, double v, int decimals); /* %.*f; null if not finite */
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* End of the document: a newline once the outermost value is closed. */
void json_finish(struct json *j);

/* key + value shorthands */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_u64(struct json *j, const char *key, uint64_t v);
void json_kv_i64(struct json *j, const char *key, int64_t v);
void json_kv_double(struct json *j, const char *key, double v);
void json_kv_fixed(struct json *j, const char *key, double v, int decimals);
void json_kv_bool(struct json *j, const char *key, bool v);

#endif
