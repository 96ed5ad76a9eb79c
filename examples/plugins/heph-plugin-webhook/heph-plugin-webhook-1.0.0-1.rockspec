-- A rock for heph's webhook plugin. It depends on nothing but Lua: heph gives the plugin
-- JSON and HTTP (heph.json, heph.http), so it needs no C module.
--
--   luarocks --lua-version 5.4 make                      (from this directory)
--   luarocks --lua-version 5.4 --tree DIR make           (into a tree of your own)
rockspec_format = "3.0"
package = "heph-plugin-webhook"
version = "1.0.0-1"
source = {
  url = "git+https://github.com/heph-tools/heph-plugin-webhook",
  tag = "v1.0.0",
}
description = {
  summary = "A heph plugin that POSTs each container transition as JSON to a URL.",
  detailed = [[
    heph.use("webhook", { url = "https://hooks.example/heph" }) posts every transition heph
    sees (or those of the events given) as a JSON object, with a timeout and a retry.
  ]],
  license = "MIT",
  labels = { "heph", "heph-plugin" },
}
dependencies = {
  "lua >= 5.4",
}
build = {
  type = "builtin",
  modules = {
    ["heph.plugins.webhook"] = "heph/plugins/webhook.lua",
  },
}
