/* fuzz_items.c - the CSV reader of robot.items (rt_items_parse_csv): any
 * bytes give a list of items or a Lua error naming the file, never a crash. */
#include "fuzz_util.h"

#include <lauxlib.h>
#include <lualib.h>

#include "items.h"

static int parse(lua_State *L)
{
  size_t len;
  const char *text = lua_tolstring(L, 1, &len);
  rt_items_parse_csv(L, text, len, "items.csv");
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  lua_State *L = luaL_newstate();
  if (!L)
    abort();
  lua_pushcfunction(L, parse);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
    if (!lua_istable(L, -1))
      abort();
  } else if (!lua_isstring(L, -1) || !strstr(lua_tostring(L, -1), "items.csv")) {
    abort(); /* an error must name the file */
  }
  lua_close(L);
  return 0;
}
