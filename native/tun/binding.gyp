{
  # Linux only (/dev/net/tun, TUNSETIFF); needs nothing beyond libc and Node's headers.
  # Built from source by native/scripts/build.mjs like the other addons.
  "targets": [
    {
      "target_name": "parley_tun",
      "sources": ["tun_addon.c"],
      "include_dirs": ["../common"],
      "cflags": ["-std=gnu99", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
