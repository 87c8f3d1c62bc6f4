/* embed_threads: a C program that embeds Lua 5.4 and runs N lua_States on N threads at once,
 * each with its own openai_admin client, each making M requests and checking every result.
 *
 *   embed_threads [--threads N] [--requests M] [--open static|dynamic|mixed] [--log-level L] BASE_URL
 *
 * --open static:  the module's C core is linked into this program and opened with
 *                 luaL_requiref (no core.so is loaded);
 * --open dynamic: `require "openai_admin.core"` finds core.so on package.cpath (LUA_CPATH);
 * --open mixed:   even threads static, odd threads dynamic (both copies in one process).
 * The Lua half of the module (lua/openai_admin/ and its .lua files) comes from package.path (LUA_PATH).
 *
 * Rules this program follows (and an embedder must): one lua_State per thread, one client per
 * state; a state, and so a client, is never used by two threads. The module keeps no mutable
 * global state in C, so states on different threads need no locking between them.
 *
 * The module's log lines go to host_log, a C function each state hands to new{ logger = ... };
 * Lua's warn() goes to host_warn via lua_setwarnf.
 * Both end in this program's logger, which prefixes the thread number.
 *
 * Prints one summary line; exits 0 only when every request of every thread succeeded. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(OA_EMBED_STATIC)
int luaopen_openai_admin_core(lua_State *L); /* from the core objects linked in */
#endif

enum open_mode { OPEN_STATIC, OPEN_DYNAMIC, OPEN_MIXED };

struct job {
  const char *base_url;
  const char *log_level; /* new{ log_level = ... }: "debug" logs every attempt */
  int thread_no;
  int requests;
  int static_open;
  pthread_barrier_t *start; /* every state opens the module at the same moment */
  /* results, written by the job's own thread, read by main after pthread_join */
  int ok, failed;
  long log_lines;
  char first_error[512];
};

/* The host's logger: here stderr, one line each. A real host calls its own. */
static void host_logger(const struct job *job, const char *level, const char *line) {
  fprintf(stderr, "[thread %d] %s: %s\n", job->thread_no, level, line);
}

/* logger(level, line, fields): what the module calls for each log line. The job rides as an
 * upvalue (a light userdata), so nothing global is needed to find it. */
static int host_log(lua_State *L) {
  struct job *job = lua_touserdata(L, lua_upvalueindex(1));
  const char *level = luaL_optstring(L, 1, "info");
  const char *line = luaL_optstring(L, 2, "");
  job->log_lines++;
  host_logger(job, level, line);
  return 0;
}

/* Lua's warn(): pieces are joined until the last one (tocont == 0); "@..." are controls. */
struct warn_buf {
  struct job *job;
  char text[512];
  size_t len;
};
static void host_warn(void *ud, const char *msg, int tocont) {
  struct warn_buf *w = ud;
  size_t n = strlen(msg);
  if (w->len == 0 && !tocont && msg[0] == '@') return; /* "@on"/"@off": not a message */
  if (n > sizeof w->text - 1 - w->len) n = sizeof w->text - 1 - w->len;
  memcpy(w->text + w->len, msg, n);
  w->len += n;
  w->text[w->len] = '\0';
  if (!tocont) {
    w->job->log_lines++;
    host_logger(w->job, "warning", w->text);
    w->len = 0;
  }
}

/* The Lua side of one thread: a client, its own project, then step(i) makes request i and
 * checks what came back. Errors raise (structured error objects); the host catches them. */
static const char worker_chunk[] =
    "local base_url, thread_no, logger, log_level = ...\n"
    "local openai_admin = require('openai_admin')\n"
    "local client = openai_admin.new{ base_url = base_url, admin_key = 'sk-admin-fake-key', max_retries = 0,\n"
    "                                 logger = logger, log_level = log_level }\n"
    "local projects = client.admin.organization.projects\n"
    "local mine = projects:create{ name = ('embed-thread-%d'):format(thread_no) }\n"
    "local function step(i)\n"
    "  if i % 2 == 1 then\n"
    "    local p = projects:retrieve(mine.id)\n"
    "    if p.id ~= mine.id or p.name ~= mine.name then\n"
    "      return false, ('retrieve %s returned %s'):format(mine.id, tostring(p.id))\n"
    "    end\n"
    "    return true\n"
    "  end\n"
    "  local page = projects:list{ limit = 100 }\n"
    "  for _, p in ipairs(page.data) do if p.id == mine.id then return true end end\n"
    "  return false, ('list: %s not on the first page of %d'):format(mine.id, #page.data)\n"
    "end\n"
    "return step, function() client:close() end\n";

static void record_failure(struct job *job, const char *what) {
  job->failed++;
  if (!job->first_error[0]) snprintf(job->first_error, sizeof job->first_error, "%s", what);
}

static void *run_job(void *arg) {
  struct job *job = arg;
  struct warn_buf warn = {job, {0}, 0};
  lua_State *L = luaL_newstate();
  if (!L) {
    record_failure(job, "luaL_newstate failed");
    return NULL;
  }
  lua_setwarnf(L, host_warn, &warn);
  lua_warning(L, "@on", 0);
  luaL_openlibs(L);
  pthread_barrier_wait(job->start);
  if (job->static_open) {
#if defined(OA_EMBED_STATIC)
    /* package.loaded["openai_admin.core"] = luaopen_openai_admin_core(): the Lua layer's
     * require then finds it without searching package.cpath. */
    luaL_requiref(L, "openai_admin.core", luaopen_openai_admin_core, 0);
    lua_pop(L, 1);
#else
    record_failure(job, "built without the static core (OA_EMBED_STATIC)");
    lua_close(L);
    return NULL;
#endif
  }
  if (luaL_loadbuffer(L, worker_chunk, sizeof worker_chunk - 1, "=worker") != LUA_OK) {
    record_failure(job, lua_tostring(L, -1));
    lua_close(L);
    return NULL;
  }
  lua_pushstring(L, job->base_url);
  lua_pushinteger(L, job->thread_no);
  lua_pushlightuserdata(L, job);
  lua_pushcclosure(L, host_log, 1);
  lua_pushstring(L, job->log_level);
  if (lua_pcall(L, 4, 2, 0) != LUA_OK) { /* stack: step, close */
    record_failure(job, luaL_tolstring(L, -1, NULL));
    lua_close(L);
    return NULL;
  }
  for (int i = 1; i <= job->requests; i++) {
    lua_pushvalue(L, -2);
    lua_pushinteger(L, i);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK) {
      record_failure(job, luaL_tolstring(L, -1, NULL)); /* tostring(err): one line, no secret */
      lua_pop(L, 2);
      continue;
    }
    if (lua_toboolean(L, -2)) job->ok++;
    else record_failure(job, luaL_optstring(L, -1, "step returned false"));
    lua_pop(L, 2);
  }
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) record_failure(job, luaL_tolstring(L, -1, NULL));
  lua_close(L);
  return NULL;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void) {
  fprintf(stderr,
          "usage: embed_threads [--threads N] [--requests M] [--open static|dynamic|mixed] [--log-level L] BASE_URL\n");
  return 2;
}

int main(int argc, char **argv) {
  int threads = 8, requests = 500;
  enum open_mode mode = OPEN_DYNAMIC;
  const char *base_url = NULL, *log_level = "warn";
  static const char *const mode_names[] = {"static", "dynamic", "mixed"};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--requests") && i + 1 < argc) requests = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--log-level") && i + 1 < argc) log_level = argv[++i];
    else if (!strcmp(argv[i], "--open") && i + 1 < argc) {
      const char *m = argv[++i];
      if (!strcmp(m, "static")) mode = OPEN_STATIC;
      else if (!strcmp(m, "dynamic")) mode = OPEN_DYNAMIC;
      else if (!strcmp(m, "mixed")) mode = OPEN_MIXED;
      else return usage();
    } else if (argv[i][0] != '-' && !base_url) base_url = argv[i];
    else return usage();
  }
  if (!base_url || threads < 1 || threads > 256 || requests < 0) return usage();

  struct job *jobs = calloc((size_t)threads, sizeof *jobs);
  pthread_t *tids = calloc((size_t)threads, sizeof *tids);
  pthread_barrier_t start;
  if (!jobs || !tids || pthread_barrier_init(&start, NULL, (unsigned)threads) != 0) {
    fprintf(stderr, "embed_threads: out of memory\n");
    return 1;
  }
  double t0 = now_seconds();
  int started = 0;
  for (int t = 0; t < threads; t++) {
    jobs[t].base_url = base_url;
    jobs[t].log_level = log_level;
    jobs[t].thread_no = t + 1;
    jobs[t].requests = requests;
    jobs[t].static_open = mode == OPEN_STATIC || (mode == OPEN_MIXED && t % 2 == 0);
    jobs[t].start = &start;
    if (pthread_create(&tids[t], NULL, run_job, &jobs[t]) != 0) {
      fprintf(stderr, "embed_threads: pthread_create failed\n");
      return 1; /* the started threads wait on the barrier forever: exit takes them down */
    }
    started++;
  }
  int ok = 0, failed = 0;
  long log_lines = 0;
  for (int t = 0; t < started; t++) {
    pthread_join(tids[t], NULL);
    ok += jobs[t].ok;
    failed += jobs[t].failed;
    log_lines += jobs[t].log_lines;
    if (jobs[t].first_error[0])
      fprintf(stderr, "embed_threads: thread %d: %d failed; first: %s\n", jobs[t].thread_no, jobs[t].failed,
              jobs[t].first_error);
  }
  double wall = now_seconds() - t0;
  int expected = threads * requests;
  printf("embed threads: %d threads x %d requests (open %s): %d of %d ok, %d failed, %ld log lines, wall %.1f s\n",
         threads, requests, mode_names[mode], ok, expected, failed, log_lines, wall);
  pthread_barrier_destroy(&start);
  free(jobs);
  free(tids);
  return ok == expected && failed == 0 ? 0 : 1;
}
