-- The version of openai-admin: the one place it is written. init.lua (openai_admin.version, the
-- User-Agent) reads it; the Makefile reads it for the C modules and the rockspecs' versioned name.
return "0.1.0"
