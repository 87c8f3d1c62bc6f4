std = "lua54"
max_line_length = 120
exclude_files = { "build/**", "build-asan/**", "lua/openai_admin/api.lua", "types/**", "tests/node/node_modules/**" }
files["tests/**/*_spec.lua"] = { std = "+busted" }
files["tests/*_spec.lua"] = { std = "+busted" }
