{
  # Linux only (recvmmsg/sendmmsg); needs nothing beyond libc and the libuv/Node-API headers
  # that ship with Node (/usr/include/node). Nothing is downloaded: run with --nodedir
  # pointing at the installed Node headers (native/scripts/build.mjs does that).
  "targets": [
    {
      "target_name": "parley_udp",
      "sources": ["udp_addon.c"],
      "include_dirs": ["../common"],
      "cflags": ["-std=c99", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
