/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the HTTP transport against a scripted loopback server.
 *
 * Plain http (allow_http, as for metadata services) keeps the server a
 * few lines of C; TLS verification is covered by the keys integration
 * suite against tests/tools/test_idp.py. Case ids: SECURITY-CASES J, M. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "http.h"

/* One scripted server: every connection gets the same answer. */
struct server {
  int lfd;
  int port;
  pthread_t thread;
  const char *answer; /* bytes sent after the request was read */
  size_t answer_len;
  int delay_ms; /* before answering */
  char request[8192];
  size_t request_len;
  int connections;
  volatile int stop;
  char url[64]; /* http://127.0.0.1:PORT/ */
};

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* Reads headers and a Content-Length body into s->request. */
static void read_request(struct server *s, int fd) {
  size_t want = 0;

  s->request_len = 0;
  for (;;) {
    ssize_t n;
    char *end;

    n = recv(fd, s->request + s->request_len,
             sizeof(s->request) - 1 - s->request_len, 0);
    if (n <= 0)
      return;
    s->request_len += (size_t)n;
    s->request[s->request_len] = '\0';
    end = strstr(s->request, "\r\n\r\n");
    if (end == NULL)
      continue;
    if (want == 0) {
      const char *cl = strstr(s->request, "Content-Length: ");

      want = (size_t)(end + 4 - s->request);
      if (cl != NULL && cl < end)
        want += strtoul(cl + 16, NULL, 10);
    }
    if (s->request_len >= want || s->request_len == sizeof(s->request) - 1)
      return;
  }
}

static void *serve(void *arg) {
  struct server *s = arg;

  while (!s->stop) {
    int fd = accept(s->lfd, NULL, NULL);
    size_t off = 0;

    if (fd < 0)
      continue;
    if (s->stop) {
      close(fd);
      break;
    }
    s->connections++;
    read_request(s, fd);
    for (int waited = 0; waited < s->delay_ms && !s->stop; waited += 10)
      sleep_ms(10);
    while (off < s->answer_len) {
      ssize_t n = send(fd, s->answer + off, s->answer_len - off, MSG_NOSIGNAL);

      if (n <= 0)
        break;
      off += (size_t)n;
    }
    close(fd);
  }
  return NULL;
}

static void server_start(struct server *s, const char *answer, size_t len) {
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  int one = 1;

  memset(s, 0, sizeof(*s));
  s->answer = answer;
  s->answer_len = len;
  s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(s->lfd >= 0);
  (void)setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(s->lfd, 8), 0);
  assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
  s->port = ntohs(a.sin_port);
  snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d/", s->port);
  assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s) {
  int fd;
  struct sockaddr_in a;

  s->stop = 1;
  /* Wake accept() with one last connection. */
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)s->port);
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    (void)connect(fd, (struct sockaddr *)&a, sizeof(a));
    close(fd);
  }
  pthread_join(s->thread, NULL);
  close(s->lfd);
}

static void url_of(const struct server *s, const char *path, char *buf,
                   size_t size) {
  snprintf(buf, size, "http://127.0.0.1:%d%s", s->port, path);
}

static wif_rc get(const char *url, bool allow_http, size_t max_body,
                  long timeout_ms, struct wif_http_response *r,
                  struct wif_error *err) {
  struct wif_http_request req;

  memset(&req, 0, sizeof(req));
  req.url = url;
  req.allow_http = allow_http;
  req.max_body = max_body;
  req.timeout_ms = timeout_ms;
  return wif_http_perform(&req, r, err);
}

#define OK_ANSWER                                                              \
  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"                      \
  "cache-control: max-age=600\r\nContent-Length: 11\r\n"                       \
  "Connection: close\r\n\r\n{\"keys\":[]}"

/* Must run first: nothing so far needed the network (warm-cache tests rely
 * on a refused URL never initialising libcurl either). */
static void test_not_initialised_before_use(void **state) {
  struct wif_http_response r;
  struct wif_error err;

  (void)state;
  assert_false(wif_http_initialized());
  /* J1: other schemes are refused before libcurl is touched. */
  assert_int_equal(get("http://127.0.0.1:1/x", false, 0, 1000, &r, &err),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(get("file:///etc/passwd", true, 0, 1000, &r, &err),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(get("ftp://127.0.0.1/x", true, 0, 1000, &r, &err),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(get("ldap://127.0.0.1/x", true, 0, 1000, &r, &err),
                   WIF_E_CONFIG_INVALID);
  assert_int_equal(get("https://", false, 0, 1000, &r, &err),
                   WIF_E_CONFIG_INVALID);
  assert_null(r.body);
  assert_false(wif_http_initialized());
}

static void test_ok(void **state) {
  struct server s;
  struct wif_http_response r;
  struct wif_error err;
  char url[128];

  (void)state;
  server_start(&s, OK_ANSWER, strlen(OK_ANSWER));
  url_of(&s, "/jwks?audience=secret", url, sizeof(url));
  assert_int_equal(get(url, true, 0, 5000, &r, &err), WIF_OK);
  assert_true(wif_http_initialized());
  assert_int_equal(r.status, 200);
  assert_int_equal(r.body_len, 11);
  assert_string_equal(r.body, "{\"keys\":[]}");
  /* Header lookup is case-insensitive, the value has no leading space. */
  assert_string_equal(wif_http_header(&r, "Cache-Control"), "max-age=600");
  assert_string_equal(wif_http_header(&r, "content-type"), "application/json");
  assert_null(wif_http_header(&r, "X-Missing"));
  assert_null(wif_http_header(&r, "Cache"));
  /* No decompression is ever asked for (J4). */
  assert_null(strstr(s.request, "Accept-Encoding"));
  assert_non_null(strstr(s.request, "GET /jwks?audience=secret HTTP/1.1"));
  wif_http_response_clear(&r);
  assert_null(r.body);
  assert_int_equal(r.n_headers, 0);
  wif_http_response_clear(&r); /* twice is harmless */
  server_stop(&s);
}

static void test_status_is_callers(void **state) {
  static const char answer[] = "HTTP/1.1 500 Internal Server Error\r\n"
                               "Content-Length: 5\r\n\r\noops!";
  struct server s;
  struct wif_http_response r;
  struct wif_error err;

  (void)state;
  server_start(&s, answer, strlen(answer));
  assert_int_equal(get(s.url, true, 0, 5000, &r, &err), WIF_OK);
  assert_int_equal(r.status, 500);
  wif_http_response_clear(&r);
  server_stop(&s);
}

/* J3: a redirect is never followed, whatever its target. */
static void test_no_redirect(void **state) {
  static const char answer[] = "HTTP/1.1 302 Found\r\n"
                               "Location: http://169.254.169.254/\r\n"
                               "Content-Length: 0\r\n\r\n";
  struct server s;
  struct wif_http_response r;
  struct wif_error err;

  (void)state;
  server_start(&s, answer, strlen(answer));
  assert_int_equal(get(s.url, true, 0, 5000, &r, &err), WIF_OK);
  assert_int_equal(r.status, 302);
  assert_int_equal(r.body_len, 0);
  assert_non_null(r.body);
  assert_string_equal(r.body, "");
  assert_int_equal(s.connections, 1);
  wif_http_response_clear(&r);
  server_stop(&s);
}

static char *chunked_answer(size_t body, size_t *len) {
  size_t cap = body + body / 10 + 256;
  char *a = malloc(cap);
  size_t off;

  assert_non_null(a);
  off = (size_t)snprintf(a, cap,
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                         "\r\n");
  while (body > 0) {
    size_t n = body > 1000 ? 1000 : body;

    off += (size_t)snprintf(a + off, cap - off, "%zx\r\n", n);
    memset(a + off, 'A', n);
    off += n;
    memcpy(a + off, "\r\n", 2);
    off += 2;
    body -= n;
  }
  memcpy(a + off, "0\r\n\r\n", 5);
  off += 5;
  *len = off;
  return a;
}

/* J4: a chunked body with no Content-Length still stops at the cap. */
static void test_cap_chunked(void **state) {
  struct server s;
  struct wif_http_response r;
  struct wif_error err;
  size_t len;
  char *answer = chunked_answer(WIF_HTTP_BODY_MAX + 5000, &len);

  (void)state;
  server_start(&s, answer, len);
  assert_int_equal(get(s.url, true, 0, 10000, &r, &err), WIF_E_TOO_LARGE);
  assert_null(r.body);
  assert_non_null(strstr(err.msg, "larger than 1048576 bytes"));
  server_stop(&s);
  free(answer);

  /* Exactly at a small cap passes; one byte over does not. */
  answer = chunked_answer(3000, &len);
  server_start(&s, answer, len);
  assert_int_equal(get(s.url, true, 3000, 5000, &r, &err), WIF_OK);
  assert_int_equal(r.body_len, 3000);
  wif_http_response_clear(&r);
  assert_int_equal(get(s.url, true, 2999, 5000, &r, &err), WIF_E_TOO_LARGE);
  server_stop(&s);
  free(answer);
}

static void test_cap_content_length(void **state) {
  static const char answer[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Length: 50000000\r\n\r\nAAAA";
  struct server s;
  struct wif_http_response r;
  struct wif_error err;

  (void)state;
  server_start(&s, answer, strlen(answer));
  assert_int_equal(get(s.url, true, 0, 5000, &r, &err), WIF_E_TOO_LARGE);
  server_stop(&s);
}

/* J5: a server that never answers costs at most the timeout. */
static void test_timeout(void **state) {
  struct server s;
  struct wif_http_response r;
  struct wif_error err;
  struct timespec t0, t1;
  char url[128];
  long ms;

  (void)state;
  server_start(&s, OK_ANSWER, strlen(OK_ANSWER));
  s.delay_ms = 30000;
  url_of(&s, "/slow?token=hidden", url, sizeof(url));
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(get(url, true, 0, 500, &r, &err), WIF_E_UNAVAILABLE);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  assert_true(ms >= 400);
  /* Did not wait for the answer; the margin is for slow runs (valgrind,
   * a loaded machine), not a speed target. */
  assert_true(ms < 15000);
  assert_non_null(strstr(err.msg, "no answer within 500 ms"));
  /* The query string never reaches a message (it may hold a secret). */
  assert_null(strstr(err.msg, "hidden"));
  assert_non_null(strstr(err.msg, "/slow"));
  server_stop(&s);
}

static void test_refused(void **state) {
  struct server s;
  struct wif_http_response r;
  struct wif_error err;

  (void)state;
  /* A port that was just closed refuses connections. */
  server_start(&s, "", 0);
  server_stop(&s);
  assert_int_equal(get(s.url, true, 0, 2000, &r, &err), WIF_E_UNAVAILABLE);
  assert_null(r.body);
}

/* Truncated: Content-Length promises more than arrives. */
static void test_closed_mid_body(void **state) {
  static const char answer[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Length: 100\r\n\r\n{\"keys\":";
  struct server s;
  struct wif_http_response r;
  struct wif_error err;

  (void)state;
  server_start(&s, answer, strlen(answer));
  assert_int_equal(get(s.url, true, 0, 5000, &r, &err), WIF_E_UNAVAILABLE);
  assert_null(r.body);
  server_stop(&s);
}

/* J16: proxies from the environment are never used. */
static void test_env_proxy_ignored(void **state) {
  struct server s;
  struct wif_http_response r;
  struct wif_error err;

  (void)state;
  setenv("http_proxy", "http://127.0.0.1:1", 1);
  setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
  setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
  server_start(&s, OK_ANSWER, strlen(OK_ANSWER));
  assert_int_equal(get(s.url, true, 0, 5000, &r, &err), WIF_OK);
  assert_int_equal(r.status, 200);
  wif_http_response_clear(&r);
  server_stop(&s);
  unsetenv("http_proxy");
  unsetenv("HTTPS_PROXY");
  unsetenv("ALL_PROXY");
}

/* An explicit proxy is used: pointing at a dead one fails. */
static void test_explicit_proxy_used(void **state) {
  struct server s;
  struct wif_http_request req;
  struct wif_http_response r;
  struct wif_error err;

  (void)state;
  server_start(&s, OK_ANSWER, strlen(OK_ANSWER));
  memset(&req, 0, sizeof(req));
  req.url = s.url;
  req.allow_http = true;
  req.proxy = "http://127.0.0.1:1";
  req.timeout_ms = 2000;
  assert_int_equal(wif_http_perform(&req, &r, &err), WIF_E_UNAVAILABLE);
  assert_int_equal(s.connections, 0);
  server_stop(&s);
}

static void test_post_and_headers(void **state) {
  static const char *const headers[] = {"Metadata: true", "X-A: b", NULL};
  static const char *const bad[] = {"X-A: b\r\nX-Injected: 1", NULL};
  struct server s;
  struct wif_http_request req;
  struct wif_http_response r;
  struct wif_error err;
  char url[128];

  (void)state;
  server_start(&s, OK_ANSWER, strlen(OK_ANSWER));
  url_of(&s, "/token", url, sizeof(url));
  memset(&req, 0, sizeof(req));
  req.url = url;
  req.allow_http = true;
  req.method = "POST";
  req.body = "grant_type=x";
  req.body_len = 12;
  req.headers = headers;
  assert_int_equal(wif_http_perform(&req, &r, &err), WIF_OK);
  assert_non_null(strstr(s.request, "POST /token HTTP/1.1"));
  assert_non_null(strstr(s.request, "\r\nMetadata: true\r\n"));
  assert_non_null(strstr(s.request, "\r\n\r\ngrant_type=x"));
  wif_http_response_clear(&r);
  /* Header injection is refused before anything is sent. */
  req.headers = bad;
  s.connections = 0;
  assert_int_equal(wif_http_perform(&req, &r, &err), WIF_E_INTERNAL);
  assert_int_equal(s.connections, 0);
  req.headers = NULL;
  req.method = "DELETE";
  assert_int_equal(wif_http_perform(&req, &r, &err), WIF_E_INTERNAL);
  server_stop(&s);
}

/* At most WIF_HTTP_HEADERS_MAX lines are kept; the rest are dropped. */
static void test_many_headers(void **state) {
  char answer[16384];
  size_t off;
  struct server s;
  struct wif_http_response r;
  struct wif_error err;

  (void)state;
  off = (size_t)snprintf(answer, sizeof(answer), "HTTP/1.1 200 OK\r\n");
  for (int i = 0; i < 100; i++)
    off += (size_t)snprintf(answer + off, sizeof(answer) - off, "X-H%d: %d\r\n",
                            i, i);
  off += (size_t)snprintf(answer + off, sizeof(answer) - off,
                          "Content-Length: 2\r\n\r\n{}");
  server_start(&s, answer, off);
  assert_int_equal(get(s.url, true, 0, 5000, &r, &err), WIF_OK);
  assert_int_equal(r.n_headers, WIF_HTTP_HEADERS_MAX);
  assert_string_equal(wif_http_header(&r, "X-H0"), "0");
  assert_null(wif_http_header(&r, "X-H99"));
  wif_http_response_clear(&r);
  server_stop(&s);
}

static void test_bad_calls(void **state) {
  struct wif_http_request req;
  struct wif_http_response r;
  struct wif_error err;

  (void)state;
  memset(&req, 0, sizeof(req));
  assert_int_equal(wif_http_perform(NULL, &r, &err), WIF_E_INTERNAL);
  assert_int_equal(wif_http_perform(&req, &r, &err), WIF_E_INTERNAL);
  req.url = "https://localhost/";
  assert_int_equal(wif_http_perform(&req, NULL, &err), WIF_E_INTERNAL);
  req.body_len = 4;
  assert_int_equal(wif_http_perform(&req, &r, NULL), WIF_E_INTERNAL);
  assert_null(wif_http_header(NULL, "x"));
  wif_http_response_clear(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_not_initialised_before_use),
      cmocka_unit_test(test_ok),
      cmocka_unit_test(test_status_is_callers),
      cmocka_unit_test(test_no_redirect),
      cmocka_unit_test(test_cap_chunked),
      cmocka_unit_test(test_cap_content_length),
      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_closed_mid_body),
      cmocka_unit_test(test_env_proxy_ignored),
      cmocka_unit_test(test_explicit_proxy_used),
      cmocka_unit_test(test_post_and_headers),
      cmocka_unit_test(test_many_headers),
      cmocka_unit_test(test_bad_calls),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
