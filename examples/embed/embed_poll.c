/* embed_poll: a C program whose own poll() loop drives one lua_State's API calls while it does
 * other work (a 10 ms tick counter), through the generic loop adapter (openai_admin.loop.generic:
 * the engine's sockets and deadline in, "this fd is ready" and "the timer fired" out).
 *
 *   embed_poll [--requests N] [--concurrency C] BASE_URL
 *
 * What it shows an embedder:
 * - the adapter's two hooks are C functions of the host (host_watch, host_timer): the module
 *   tells the host which fds to watch for what, and when to call back; the host calls
 *   loop:ready(fd, ev) and loop:timer() from its loop. Nothing in the module blocks.
 * - N checked requests run as C tasks of the adapter (coroutines), C at a time;
 * - the module's log lines go to a C function (new{ logger = host_log, log_level = "debug" });
 * - a request in flight is cancelled from the host (loop:cancel(task)): it never completes, and
 *   its task ends with a `cancelled` error.
 * The module is linked in and opened with luaL_requiref (see embed_threads.c for core.so).
 * Prints one summary line; exits 0 only when every request succeeded, the cancel did what it
 * says, and the tick counter ran while the requests were in flight. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int luaopen_openai_admin_core(lua_State *L); /* from the core objects linked in */

#define MAX_WATCHES 256
#define TICK_SECONDS 0.010
#define RUN_LIMIT_SECONDS 120.0 /* a stuck run fails instead of hanging make embed-test */

/* Everything the host knows, in one object reached through upvalues: no globals. */
struct host {
  struct pollfd watches[MAX_WATCHES]; /* what the module asked to watch */
  int nwatch;
  int timer_armed;
  double timer_due; /* monotonic seconds */
  long ticks, ticks_while_busy;
  double max_tick_gap, last_tick;
  long log_lines;
  int watch_overflow;
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* watch(fd, events, serial): start or change watching fd ("r", "w", "rw"); events nil: stop.
 * (A new serial for an fd we watch is a new socket under the same number: same slot.) */
static int host_watch(lua_State *L) {
  struct host *h = lua_touserdata(L, lua_upvalueindex(1));
  int fd = (int)luaL_checkinteger(L, 1);
  const char *ev = luaL_optstring(L, 2, NULL);
  int i;
  for (i = 0; i < h->nwatch && h->watches[i].fd != fd; i++) {
  }
  if (!ev) {
    if (i < h->nwatch) h->watches[i] = h->watches[--h->nwatch];
    return 0;
  }
  if (i == h->nwatch) {
    if (h->nwatch == MAX_WATCHES) {
      h->watch_overflow = 1;
      return 0;
    }
    h->nwatch++;
  }
  h->watches[i].fd = fd;
  h->watches[i].events = (short)((strchr(ev, 'r') ? POLLIN : 0) | (strchr(ev, 'w') ? POLLOUT : 0));
  h->watches[i].revents = 0;
  return 0;
}

/* timer(seconds): (re)arm the one timer; nil: disarm. */
static int host_timer(lua_State *L) {
  struct host *h = lua_touserdata(L, lua_upvalueindex(1));
  if (lua_isnoneornil(L, 1)) {
    h->timer_armed = 0;
    return 0;
  }
  h->timer_armed = 1;
  h->timer_due = now_seconds() + luaL_checknumber(L, 1);
  return 0;
}

/* logger(level, line, fields): the module's log lines, into the host's logger (stderr here). */
static int host_log(lua_State *L) {
  struct host *h = lua_touserdata(L, lua_upvalueindex(1));
  h->log_lines++;
  fprintf(stderr, "[openai_admin %s] %s\n", luaL_optstring(L, 1, "info"), luaL_optstring(L, 2, ""));
  return 0;
}

/* The Lua side: the client, the adapter on the host's hooks, and the job. Returns a table of
 * functions the loop calls. Every request is checked; failures are counted, never raised. */
static const char app_chunk[] =
    "local base_url, hooks, logger, total, concurrency = ...\n"
    "local openai_admin = require 'openai_admin'\n"
    "local loop = require('openai_admin.loop.generic').new(hooks)\n"
    "local client = openai_admin.new{ base_url = base_url, admin_key = 'sk-admin-fake-key',\n"
    "                                 logger = logger, log_level = 'debug' }\n"
    "local projects = client.admin.organization.projects\n"
    "local st = { ok = 0, failed = 0, started = false }\n"
    "local function fail(msg)\n"
    "  st.failed = st.failed + 1\n"
    "  st.first_error = st.first_error or tostring(msg)\n"
    "end\n"
    "local function on_done(task) if task.error then fail(task.error) end end\n"
    "local mine\n"
    "local next_i = 0\n"
    "local function worker()\n"
    "  while next_i < total do\n"
    "    next_i = next_i + 1\n"
    "    local i = next_i\n"
    "    local ok, good = pcall(function()\n"
    "      if i % 2 == 1 then return projects:retrieve(mine.id).id == mine.id end\n"
    "      for _, p in ipairs(projects:list{ limit = 100 }.data) do if p.id == mine.id then return true end end\n"
    "      return false\n"
    "    end)\n"
    "    if ok and good then st.ok = st.ok + 1 else fail(ok and ('request ' .. i .. ': wrong answer') or good) end\n"
    "  end\n"
    "end\n"
    "local app = {}\n"
    "function app.start()\n"
    "  loop:spawn(function()\n"
    "    mine = projects:create{ name = 'embed-poll' }\n"
    "    st.started = true\n"
    "  end).on_done = function(task)\n"
    "    if task.error then return fail(task.error) end\n"
    "    for _ = 1, concurrency do loop:spawn(worker).on_done = on_done end\n"
    "  end\n"
    "end\n"
    "-- the cancel: a request put in flight, then cancelled by the host one tick later\n"
    "local victim, victim_returned\n"
    "function app.start_victim()\n"
    "  victim = loop:spawn(function()\n"
    "    projects:retrieve(mine.id)\n"
    "    victim_returned = true\n"
    "  end)\n"
    "  victim.on_done = function() end\n"
    "end\n"
    "function app.cancel_victim()\n"
    "  local was_live = loop:cancel(victim)\n"
    "  local e = victim.error\n"
    "  local ok = was_live and victim.done and victim.cancelled and not victim_returned\n"
    "    and openai_admin.errors.is(e) and e.code == 'cancelled'\n"
    "  return ok, tostring(e)\n"
    "end\n"
    "function app.ready(fd, ev) loop:ready(fd, ev) end\n"
    "function app.timer() loop:timer() end\n"
    "function app.busy() return loop:busy() end\n"
    "function app.started() return st.started end\n"
    "function app.result() return st.ok, st.failed, st.first_error end\n"
    "function app.close() client:close() end\n"
    "return app\n";

/* app[name](args...) under pcall; a raise is reported and counted. */
static int call_app(lua_State *L, const char *name, int nargs, int nresults, int *errors) {
  lua_getfield(L, 1, name); /* the app table is at index 1 */
  lua_insert(L, -nargs - 1);
  if (lua_pcall(L, nargs, nresults, 0) != LUA_OK) {
    fprintf(stderr, "embed_poll: app.%s raised: %s\n", name, luaL_tolstring(L, -1, NULL));
    lua_pop(L, 2);
    (*errors)++;
    for (int i = 0; i < nresults; i++) lua_pushnil(L);
    return 0;
  }
  return 1;
}

static int usage(void) {
  fprintf(stderr, "usage: embed_poll [--requests N] [--concurrency C] BASE_URL\n");
  return 2;
}

int main(int argc, char **argv) {
  int total = 200, concurrency = 16, raised = 0;
  const char *base_url = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--requests") && i + 1 < argc) total = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--concurrency") && i + 1 < argc) concurrency = atoi(argv[++i]);
    else if (argv[i][0] != '-' && !base_url) base_url = argv[i];
    else return usage();
  }
  if (!base_url || total < 1 || concurrency < 1) return usage();

  struct host h;
  memset(&h, 0, sizeof h);
  lua_State *L = luaL_newstate();
  if (!L) return 1;
  luaL_openlibs(L);
  luaL_requiref(L, "openai_admin.core", luaopen_openai_admin_core, 0);
  lua_pop(L, 1);
  if (luaL_loadbuffer(L, app_chunk, sizeof app_chunk - 1, "=embed_poll") != LUA_OK) {
    fprintf(stderr, "embed_poll: %s\n", lua_tostring(L, -1));
    return 1;
  }
  lua_pushstring(L, base_url);
  lua_createtable(L, 0, 2); /* the adapter's hooks: C closures over the host */
  lua_pushlightuserdata(L, &h);
  lua_pushcclosure(L, host_watch, 1);
  lua_setfield(L, -2, "watch");
  lua_pushlightuserdata(L, &h);
  lua_pushcclosure(L, host_timer, 1);
  lua_setfield(L, -2, "timer");
  lua_pushlightuserdata(L, &h);
  lua_pushcclosure(L, host_log, 1);
  lua_pushinteger(L, total);
  lua_pushinteger(L, concurrency);
  if (lua_pcall(L, 5, 1, 0) != LUA_OK) { /* stack: [1] = app */
    fprintf(stderr, "embed_poll: %s\n", luaL_tolstring(L, -1, NULL));
    lua_close(L);
    return 1;
  }

  double t0 = now_seconds(), next_tick = t0 + TICK_SECONDS, victim_at = 0;
  int victim = 0, cancel_ok = 0, timed_out = 0; /* victim: 0 none, 1 in flight, 2 cancelled */
  char cancel_note[256] = "";
  h.last_tick = t0;
  call_app(L, "start", 0, 0, &raised);
  for (;;) {
    call_app(L, "busy", 0, 1, &raised);
    int busy = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!busy && victim != 1) break;
    double now = now_seconds();
    if (now - t0 > RUN_LIMIT_SECONDS) {
      timed_out = 1;
      break;
    }
    double until = next_tick;
    if (h.timer_armed && h.timer_due < until) until = h.timer_due;
    int timeout_ms = until > now ? (int)ceil((until - now) * 1000.0) : 0;
    struct pollfd fds[MAX_WATCHES];
    int nfds = h.nwatch;
    memcpy(fds, h.watches, sizeof fds[0] * (size_t)nfds); /* the hooks change h.watches */
    if (poll(fds, (nfds_t)nfds, timeout_ms) < 0) continue; /* EINTR */
    now = now_seconds();

    /* The other work first: the tick counter (and the cancel, one tick after its request left). */
    if (now >= next_tick) {
      if (now - h.last_tick > h.max_tick_gap) h.max_tick_gap = now - h.last_tick;
      h.last_tick = now;
      h.ticks++;
      if (busy) h.ticks_while_busy++;
      next_tick += TICK_SECONDS;
      if (next_tick < now) next_tick = now + TICK_SECONDS;
      if (victim == 1 && now >= victim_at) {
        call_app(L, "cancel_victim", 0, 2, &raised);
        cancel_ok = lua_toboolean(L, -2);
        snprintf(cancel_note, sizeof cancel_note, "%s", luaL_optstring(L, -1, "?"));
        lua_pop(L, 2);
        victim = 2;
      }
      if (victim == 0) {
        call_app(L, "started", 0, 1, &raised);
        int started = lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (started) {
          call_app(L, "start_victim", 0, 0, &raised);
          victim = 1;
          victim_at = now + TICK_SECONDS / 2;
        }
      }
    }
    for (int i = 0; i < nfds; i++) {
      short r = fds[i].revents;
      if (!r) continue;
      int rd = (r & (POLLIN | POLLHUP | POLLERR)) != 0, wr = (r & (POLLOUT | POLLERR)) != 0;
      lua_pushinteger(L, fds[i].fd);
      lua_pushstring(L, rd && wr ? "rw" : wr ? "w" : "r");
      call_app(L, "ready", 2, 0, &raised);
    }
    if (h.timer_armed && now_seconds() >= h.timer_due) {
      h.timer_armed = 0;
      call_app(L, "timer", 0, 0, &raised);
    }
  }
  double wall = now_seconds() - t0;

  call_app(L, "result", 0, 3, &raised);
  int ok = (int)lua_tointeger(L, -3), failed = (int)lua_tointeger(L, -2);
  if (lua_isstring(L, -1)) fprintf(stderr, "embed_poll: first failure: %s\n", lua_tostring(L, -1));
  lua_pop(L, 3);
  call_app(L, "close", 0, 0, &raised);
  lua_close(L);

  if (!cancel_ok) fprintf(stderr, "embed_poll: the cancel did not behave: %s\n", cancel_note);
  if (timed_out) fprintf(stderr, "embed_poll: still busy after %.0f s\n", RUN_LIMIT_SECONDS);
  if (h.watch_overflow) fprintf(stderr, "embed_poll: more than %d sockets to watch\n", MAX_WATCHES);
  printf("embed poll: %d of %d requests ok at concurrency %d, %d failed; cancel %s; %ld ticks (%ld while busy), "
         "max tick gap %.0f ms; %ld log lines; wall %.2f s\n",
         ok, total, concurrency, failed, cancel_ok ? "ok" : "FAILED", h.ticks, h.ticks_while_busy,
         h.max_tick_gap * 1000.0, h.log_lines, wall);
  return ok == total && failed == 0 && cancel_ok && !timed_out && !raised && !h.watch_overflow && h.ticks_while_busy > 0
             ? 0
             : 1;
}
