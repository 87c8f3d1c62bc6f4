--- Files the jobs write with care (libuv's file calls through lua-luv, synchronous): a secret
--- into a new file of mode 0600, and atomic replacement (temp + fsync + rename + directory fsync)
--- for checkpoints. Failures raise a structured error naming the file.
local errors = require("openai_admin.errors")
local uv = require("luv")

local M = {}

local function io_fail(what, path, err)
  error(errors.new({ kind = "io", message = what .. " " .. tostring(path) .. ": " .. tostring(err), path = path }), 0)
end
M.io_fail = io_fail

local function check(what, path, ok, err)
  if not ok then io_fail(what, path, err) end
  return ok
end

local function write_all(fd, data, path)
  local off = 0
  while off < #data do
    local n, err = uv.fs_write(fd, data:sub(off + 1), -1)
    if not n then uv.fs_close(fd); io_fail("cannot write", path, err) end
    off = off + n
  end
end

local function dir_of(path)
  return path:match("^(.*)/[^/]*$") or "."
end

local function fsync_dir(path)
  local fd = uv.fs_open(dir_of(path), "r", 0)
  if fd then uv.fs_fsync(fd); uv.fs_close(fd) end
end

--- Writes data into a file that must not exist yet, created with mode 0600 (never widened by the
--- umask, never a file someone else could already read), fsynced.
function M.write_secret(path, data)
  local fd = check("cannot create", path, uv.fs_open(path, "wx", tonumber("600", 8)))
  write_all(fd, data, path)
  check("cannot fsync", path, uv.fs_fsync(fd))
  uv.fs_close(fd)
end

--- Replaces path with data atomically: a reader (or a restart after SIGKILL) sees the old
--- content or the new, never a mix.
function M.replace(path, data)
  local tmp = path .. ".tmp"
  local fd = check("cannot create", tmp, uv.fs_open(tmp, "w", tonumber("600", 8)))
  write_all(fd, data, tmp)
  check("cannot fsync", tmp, uv.fs_fsync(fd))
  uv.fs_close(fd)
  check("cannot rename to", path, uv.fs_rename(tmp, path))
  fsync_dir(path)
end

--- Reads a whole file, or nil when it does not exist.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- An append handle: open (creating with 0644 if needed), cut to `length` first when given.
--- Returns { write(s), sync(), size(), close() }.
function M.appender(path, length)
  local fd = check("cannot open", path, uv.fs_open(path, "a", tonumber("644", 8)))
  local st = check("cannot stat", path, uv.fs_fstat(fd))
  local size = st.size
  if length and size ~= length then
    if length > size then
      uv.fs_close(fd)
      io_fail("shorter than its checkpoint says (" .. size .. " < " .. length .. " bytes), refusing to go on:", path,
        "was it replaced?")
    end
    check("cannot truncate", path, uv.fs_ftruncate(fd, length))
    size = length
  end
  local h = {}
  function h.write(s)
    write_all(fd, s, path)
    size = size + #s
  end
  function h.sync() check("cannot fsync", path, uv.fs_fsync(fd)) end
  function h.size() return size end
  function h.close() if fd then uv.fs_close(fd); fd = nil end end
  return h
end

return M
