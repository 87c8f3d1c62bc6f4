/* Cursor bookkeeping per pagination kind; the page itself is decoded by the caller. */
#include "pager.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define PAGER_MT "openai_admin.core.pager"

typedef enum { K_CURSOR_LAST_ID, K_CURSOR_NEXT, K_CURSOR_ITEM_ID, K_PAGE_TOKEN, K_SINGLE_PAGE } kind_t;
static const char *const kind_names[] = {"cursor_last_id", "cursor_next", "cursor_item_id",
                                         "page_token", "single_page", NULL};

typedef struct pager {
  kind_t kind;
  int done;
  int pages;      /* pages advanced over */
  char *cursor;   /* percent-encoded; NULL for the first page */
} pager;

/* user values: 1 method, 2 path, 3 query */

static pager *check_pager(lua_State *L) { return luaL_checkudata(L, 1, PAGER_MT); }

int oa_pager_new(lua_State *L) {
  int kind = luaL_checkoption(L, 1, NULL, kind_names);
  luaL_checkstring(L, 2);
  const char *path = luaL_checkstring(L, 3);
  if (lua_isnoneornil(L, 4)) {
    lua_settop(L, 3);
    lua_pushliteral(L, "");
  } else {
    luaL_checkstring(L, 4);
    lua_settop(L, 4);
  }
  if (path[0] != '/') return luaL_argerror(L, 3, "path must start with '/'");
  if (strchr(path, '?') != NULL) return luaL_argerror(L, 3, "path must not contain a query");
  pager *p = lua_newuserdatauv(L, sizeof *p, 3);
  memset(p, 0, sizeof *p);
  p->kind = (kind_t)kind;
  luaL_setmetatable(L, PAGER_MT);
  for (int i = 2; i <= 4; i++) {
    lua_pushvalue(L, i);
    lua_setiuservalue(L, -2, i - 1);
  }
  return 1;
}

static int pager_gc(lua_State *L) {
  pager *p = check_pager(L);
  free(p->cursor);
  p->cursor = NULL;
  return 0;
}

/* path[?query][&|?]after=cursor  (page=cursor for page_token) */
static int pager_next_path(lua_State *L) {
  pager *p = check_pager(L);
  if (p->done) {
    lua_pushnil(L);
    return 1;
  }
  size_t plen, qlen;
  lua_getiuservalue(L, 1, 2);
  const char *path = lua_tolstring(L, -1, &plen);
  lua_getiuservalue(L, 1, 3);
  const char *query = lua_tolstring(L, -1, &qlen);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, path, plen);
  if (qlen > 0) {
    luaL_addchar(&b, '?');
    luaL_addlstring(&b, query, qlen);
  }
  if (p->cursor) {
    luaL_addchar(&b, qlen > 0 ? '&' : '?');
    luaL_addstring(&b, p->kind == K_PAGE_TOKEN ? "page=" : "after=");
    luaL_addstring(&b, p->cursor);
  }
  luaL_pushresult(&b);
  return 1;
}

static int pager_done(lua_State *L) {
  lua_pushboolean(L, check_pager(L)->done);
  return 1;
}

static int pager_method(lua_State *L) {
  check_pager(L);
  lua_getiuservalue(L, 1, 1);
  return 1;
}

/* field of the page table at index t as a non-empty string, or NULL (null/empty/missing) */
static const char *string_field(lua_State *L, int t, const char *name, size_t *len) {
  lua_pushstring(L, name);
  lua_rawget(L, t);
  const char *s = NULL;
  if (lua_type(L, -1) == LUA_TSTRING) {
    s = lua_tolstring(L, -1, len);
    if (*len == 0) s = NULL;
  }
  lua_pop(L, 1); /* the string stays alive: the page table holds it */
  return s;
}

static int has_more_is_false(lua_State *L, int t) {
  lua_pushliteral(L, "has_more");
  lua_rawget(L, t);
  int no = lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1);
  lua_pop(L, 1);
  return no;
}

/* #data, or -1 when data is not a table */
static lua_Integer data_len(lua_State *L, int t) {
  lua_pushliteral(L, "data");
  lua_rawget(L, t);
  lua_Integer n = lua_type(L, -1) == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, -1) : -1;
  lua_pop(L, 1);
  return n;
}

static const char *last_item_id(lua_State *L, int t, size_t *len) {
  const char *id = NULL;
  lua_pushliteral(L, "data");
  lua_rawget(L, t);
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    if (n > 0 && lua_rawgeti(L, -1, n) == LUA_TTABLE) {
      id = string_field(L, lua_gettop(L), "id", len);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return id;
}

static char *percent_encode(const char *s, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  char *out = malloc(len * 3 + 1), *o = out;
  if (out == NULL) return NULL;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      *o++ = (char)c;
    } else {
      *o++ = '%';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
  }
  *o = '\0';
  return out;
}

static int pager_advance(lua_State *L) {
  pager *p = check_pager(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (p->done) return 0;
  p->pages++;
  const char *next = NULL;
  size_t len = 0;
  switch (p->kind) {
  case K_SINGLE_PAGE:
    break;
  case K_CURSOR_LAST_ID:
    if (!has_more_is_false(L, 2) && data_len(L, 2) != 0) next = string_field(L, 2, "last_id", &len);
    break;
  case K_CURSOR_NEXT:
    if (!has_more_is_false(L, 2)) next = string_field(L, 2, "next", &len);
    break;
  case K_CURSOR_ITEM_ID:
    if (!has_more_is_false(L, 2) && data_len(L, 2) > 0) next = last_item_id(L, 2, &len);
    break;
  case K_PAGE_TOKEN:
    if (!has_more_is_false(L, 2)) next = string_field(L, 2, "next_page", &len);
    break;
  }
  if (next == NULL) {
    p->done = 1;
    return 0;
  }
  char *cursor = percent_encode(next, len);
  if (cursor == NULL) return luaL_error(L, "openai_admin: out of memory");
  if (p->cursor && strcmp(p->cursor, cursor) == 0) {
    /* the server handed back the same cursor: following it would loop forever */
    free(cursor);
    p->done = 1;
    return 0;
  }
  free(p->cursor);
  p->cursor = cursor;
  return 0;
}

static int pager_tostring(lua_State *L) {
  pager *p = check_pager(L);
  lua_pushfstring(L, "openai_admin.core.pager (%s, %s)", kind_names[p->kind], p->done ? "done" : "open");
  return 1;
}

void oa_pager_register(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"next_path", pager_next_path}, {"advance", pager_advance}, {"done", pager_done},
      {"method", pager_method}, {NULL, NULL}};
  if (luaL_newmetatable(L, PAGER_MT)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, pager_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, pager_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
}
