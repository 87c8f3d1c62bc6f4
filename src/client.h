/* The client userdata: configuration, default headers, the admin key (C memory only), and a
 * shared connection pool held as a user value. */
#ifndef OPENAI_ADMIN_CLIENT_H
#define OPENAI_ADMIN_CLIENT_H
#include <lua.h>

/* core.client(config) */
int oa_client_new(lua_State *L);
/* Creates the client, pool and batch metatables (once per state). */
void oa_client_register(lua_State *L);

#endif
