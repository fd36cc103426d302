/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <math.h>

#include "json.h"

void
json_init(struct json *j, FILE *f)
{
	json_init_text(j, f, JSON_ASCII);
}

void
json_init_text(struct json *j, FILE *f, enum json_text text)
{
	j->f = f;
	j->text = text;
	j->depth = 0;
	j->need_comma[0] = false;
	j->after_key = false;
}

/* Before any value or key: a comma if a sibling came before (not after "key":). */
static void
json_sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
}

static void
json_open(struct json *j, char ch)
{
	json_sep(j);
	fputc(ch, j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void
json_close(struct json *j, char ch)
{
	fputc(ch, j->f);
	if (j->depth > 0)
		j->depth--;
}

void
json_obj_begin(struct json *j)
{
	json_open(j, '{');
}

void
json_obj_end(struct json *j)
{
	json_close(j, '}');
}

void
json_arr_begin(struct json *j)
{
	json_open(j, '[');
}

void
json_arr_end(struct json *j)
{
	json_close(j, ']');
}

static void
json_quoted(FILE *f, enum json_text text, const char *s)
{
	bool ascii = text == JSON_ASCII;
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (ascii && *p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || (ascii && *p >= 0x7f))
			/* names come from another process: keep the document valid whatever they
			 * are */
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void
json_key(struct json *j, const char *key)
{
	json_sep(j);
	json_quoted(j->f, j->text, key);
	fputc(':', j->f);
	j->after_key = true;
}

void
json_str(struct json *j, const char *s)
{
	json_sep(j);
	json_quoted(j->f, j->text, s);
}

void
json_u64(struct json *j, uint64_t v)
{
	json_sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void
json_i64(struct json *j, int64_t v)
{
	json_sep(j);
	fprintf(j->f, "%" PRId64, v);
}

void
json_double(struct json *j, double v)
{
	json_sep(j);
	if (isfinite(v))
		fprintf(j->f, "%.6g", v);
	else
		fputs("null", j->f);
}

void
json_fixed(struct json *j, double v, int decimals)
{
	json_sep(j);
	if (isfinite(v))
		fprintf(j->f, "%.*f", decimals, v);
	else
		fputs("null", j->f);
}

void
json_bool(struct json *j, bool v)
{
	json_sep(j);
	fputs(v ? "true" : "false", j->f);
}

void
json_null(struct json *j)
{
	json_sep(j);
	fputs("null", j->f);
}

void
json_finish(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}

void
json_kv_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void
json_kv_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void
json_kv_i64(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_i64(j, v);
}

void
json_kv_double(struct json *j, const char *key, double v)
{
	json_key(j, key);
	json_double(j, v);
}

void
json_kv_fixed(struct json *j, const char *key, double v, int decimals)
{
	json_key(j, key);
	json_fixed(j, v, decimals);
}

void
json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}
