{
  # Built from source against Debian's libsrtp2-dev (apt-get install libsrtp2-dev).
  # Nothing is downloaded: run with --nodedir pointing at the installed Node headers
  # (native/scripts/build.mjs does that).
  "targets": [
    {
      "target_name": "parley_srtp",
      "sources": ["srtp_addon.c"],
      "include_dirs": ["../common"],
      "libraries": ["-lsrtp2"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
