/*
 * The C baselines for make bench: what the same work costs with one reused libcurl easy handle
 * and a C JSON parser, and nothing else. Built twice by bench/run.lua: with -DUSE_CJSON
 * (cJSON, Debian libcjson-dev: the fastest C parser in Debian, the floor every ratio is taken
 * against) and without (jansson, an extra row).
 *
 *   baseline retrieve BASE_URL KEY PATH N     N sequential GETs of PATH, each body parsed
 *   baseline page     BASE_URL KEY PATH LIMIT walk a cursor_last_id list (after=last_id) to its end
 *
 * Prints one line: "requests=R items=I cpu=SECONDS wall=SECONDS". With BENCH_GZIP=1 in the
 * environment it asks for gzip (CURLOPT_ACCEPT_ENCODING; libcurl inflates), for the gzip probe
 * of docs/performance.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include <curl/curl.h>
#ifdef USE_CJSON
#include <cjson/cJSON.h>
typedef cJSON doc;
static doc *parse(const char *s, size_t len) { return cJSON_ParseWithLength(s, len); }
static void release(doc *v) { cJSON_Delete(v); }
static long data_size(doc *v) { return (long)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(v, "data")); }
static int has_more(doc *v) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "has_more")); }
static const char *last_id(doc *v) {
  cJSON *last = cJSON_GetObjectItemCaseSensitive(v, "last_id");
  return cJSON_IsString(last) ? last->valuestring : NULL;
}
#else
#include <jansson.h>
typedef json_t doc;
static doc *parse(const char *s, size_t len) { return json_loadb(s, len, 0, NULL); }
static void release(doc *v) { json_decref(v); }
static long data_size(doc *v) { return (long)json_array_size(json_object_get(v, "data")); }
static int has_more(doc *v) { return json_is_true(json_object_get(v, "has_more")); }
static const char *last_id(doc *v) {
  json_t *last = json_object_get(v, "last_id");
  return json_is_string(last) ? json_string_value(last) : NULL;
}
#endif

typedef struct { char *data; size_t len, cap; } buffer;

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  buffer *b = ud;
  size_t add = size * n;
  if (b->len + add + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + add + 1) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) return 0;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, add);
  b->len += add;
  return add;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double wall_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static doc *get(CURL *h, buffer *b, const char *url) {
  long status = 0;
  b->len = 0;
  curl_easy_setopt(h, CURLOPT_URL, url);
  if (curl_easy_perform(h) != CURLE_OK) return NULL;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) return NULL;
  return parse(b->data, b->len);
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: baseline retrieve|page BASE_URL KEY PATH N\n");
    return 2;
  }
  const char *mode = argv[1], *base = argv[2], *key = argv[3], *path = argv[4];
  long n = atol(argv[5]), requests = 0, items = 0;
  char url[4096], auth[512];
  buffer b = { 0 };
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL *h = curl_easy_init();
  struct curl_slist *hdrs = NULL;
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
  hdrs = curl_slist_append(hdrs, auth);
  hdrs = curl_slist_append(hdrs, "Accept: application/json");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
  if (getenv("BENCH_GZIP") && strcmp(getenv("BENCH_GZIP"), "1") == 0) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
  double cpu0 = cpu_seconds(), wall0 = wall_seconds();
  int rc = 0;
  if (strcmp(mode, "retrieve") == 0) {
    snprintf(url, sizeof url, "%s%s", base, path);
    for (long i = 0; i < n; i++) {
      doc *v = get(h, &b, url);
      if (!v) { rc = 1; break; }
      requests++;
      items++;
      release(v);
    }
  } else {
    char after[256] = "";
    for (;;) {
      if (after[0]) snprintf(url, sizeof url, "%s%s?limit=%ld&after=%s", base, path, n, after);
      else snprintf(url, sizeof url, "%s%s?limit=%ld", base, path, n);
      doc *v = get(h, &b, url);
      if (!v) { rc = 1; break; }
      requests++;
      items += data_size(v);
      const char *last = last_id(v);
      int go_on = has_more(v) && last;
      if (go_on) snprintf(after, sizeof after, "%s", last);
      release(v);
      if (!go_on) break;
    }
  }
  printf("requests=%ld items=%ld cpu=%.4f wall=%.4f\n", requests, items, cpu_seconds() - cpu0,
         wall_seconds() - wall0);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  curl_global_cleanup();
  free(b.data);
  return rc;
}
