/* Pagination state for list endpoints (module functions core.pager and its methods). */
#ifndef OPENAI_ADMIN_PAGER_H
#define OPENAI_ADMIN_PAGER_H
#include <lua.h>

/* core.pager(kind, method, path, query) */
int oa_pager_new(lua_State *L);
/* Creates the pager metatable (once per state). */
void oa_pager_register(lua_State *L);

#endif
