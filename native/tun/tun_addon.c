/*
 * Opens a Linux TUN device and returns its file descriptor. This is the one thing the
 * simulation's delay element (loadtest/src/sim) cannot do from JavaScript: attaching to a
 * TUN interface takes ioctl(TUNSETIFF), which Node does not expose. Reading and writing the
 * descriptor stay in JavaScript (fs.read / fs.writeSync: one IP packet per call).
 */
#define NAPI_VERSION 8
#define PARLEY_ADDON "parley_tun"
#include "napi-helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* openTun(name: string): number — an IFF_TUN | IFF_NO_PI device, blocking, close-on-exec. */
static napi_value open_tun(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "openTun(name) needs an interface name");
  char name[IFNAMSIZ];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok || len == 0 ||
      len >= IFNAMSIZ - 1)
    return throw_type(env, "openTun: name must be a string of 1-14 characters");
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "openTun: open /dev/net/tun: %s", strerror(errno));
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    char msg[160];
    snprintf(msg, sizeof msg, "openTun: TUNSETIFF %s: %s", name, strerror(err));
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  return make_int(env, fd);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {NAPI_METHOD("openTun", open_tun)};
  CHECK(napi_define_properties(env, exports, 1, props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
