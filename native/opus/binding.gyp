{
  # Built from source against Debian's libopus-dev (apt-get install libopus-dev).
  # Nothing is downloaded: run with --nodedir pointing at the installed Node headers
  # (native/scripts/build.mjs does that).
  "targets": [
    {
      "target_name": "parley_opus",
      "sources": ["opus_addon.c"],
      "include_dirs": ["../common"],
      "libraries": ["-lopus"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
