// Console sockets: the AF_UNIX connection to a caller's --console-socket, a socket
// pair for when tsrun receives the pty master itself, and SCM_RIGHTS reception.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <sys/un.h>
#include <unistd.h>

#include <vector>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {

// connectUnix(path[, timeoutMs]): a SOCK_STREAM connection to path (O_CLOEXEC), as
// runc makes to --console-socket. With a timeout, each later read and write of the
// socket fails with EAGAIN after that long (SO_RCVTIMEO, SO_SNDTIMEO): a peer that
// stops answering (systemd's bus) cannot hang a synchronous caller.
Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "connectUnix", "path");
  UniqueFd fd(ConnectUnixSocket(env, path));
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    int ms = ArgInt(info, 1, "connectUnix", "timeoutMs");
    struct timeval tv {};
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) ThrowErrno(env, errno, "setsockopt(SO_RCVTIMEO)", path);
    if (setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) ThrowErrno(env, errno, "setsockopt(SO_SNDTIMEO)", path);
  }
  return Napi::Number::New(env, fd.release());
}

// socketPair(): [a, b], AF_UNIX SOCK_STREAM, both O_CLOEXEC.
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) ThrowErrno(env, errno, "socketpair", "console");
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, sv[0]));
  out.Set(1u, Napi::Number::New(env, sv[1]));
  return out;
}

// recvFd(socket): blocks for one message carrying one fd (SCM_RIGHTS); returns
// { fd, name } (name: the message's bytes, the pty path), or null at EOF.
Napi::Value RecvFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  int fd = ReceiveOneFd(env, ArgFd(info, 0, "recvFd"), &name, "console socket");
  if (fd < 0) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("name", Napi::String::New(env, name));
  return out;
}

Napi::Value SetWindowSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "setWindowSize");
  struct winsize ws = {};
  ws.ws_row = static_cast<unsigned short>(ArgInt(info, 1, "setWindowSize", "rows"));
  ws.ws_col = static_cast<unsigned short>(ArgInt(info, 2, "setWindowSize", "cols"));
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) ThrowErrno(env, errno, "ioctl(TIOCSWINSZ)", "console");
  return env.Undefined();
}

// getWindowSize(fd) -> { rows, cols }: a terminal's size (TIOCGWINSZ).
Napi::Value GetWindowSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "getWindowSize");
  struct winsize ws = {};
  if (ioctl(fd, TIOCGWINSZ, &ws) < 0) ThrowErrno(env, errno, "ioctl(TIOCGWINSZ)", std::to_string(fd));
  Napi::Object out = Napi::Object::New(env);
  out.Set("rows", Napi::Number::New(env, ws.ws_row));
  out.Set("cols", Napi::Number::New(env, ws.ws_col));
  return out;
}

// makeRaw(fd): the terminal's mode as runc sets the caller's while it relays a pty:
// cfmakeraw(3)'s (no input processing, no echo, no signals from keys) but with output
// processing kept. The relayed pty has no ONLCR (the init's console op clears it), so
// this terminal turns the container's "\n" into "\r\n", once.
Napi::Value MakeRaw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "makeRaw");
  struct termios mode;
  if (tcgetattr(fd, &mode) < 0) ThrowErrno(env, errno, "tcgetattr", "terminal");
  cfmakeraw(&mode);
  mode.c_oflag |= OPOST;
  if (tcsetattr(fd, TCSANOW, &mode) < 0) ThrowErrno(env, errno, "tcsetattr", "terminal");
  return env.Undefined();
}

// openPtyPeer(master): an fd of the pty's slave side (read-only, O_NOCTTY, O_CLOEXEC),
// opened through the master (TIOCGPTPEER: no path, so also the pty of a devpts
// instance in another mount namespace). Held by the proxy, it keeps the slave side
// open: the master never reads EIO or polls POLLHUP while data is still in the
// pty, which libuv would take for the end of the stream.
Napi::Value OpenPtyPeer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int master = ArgFd(info, 0, "openPtyPeer");
  int fd = ioctl(master, TIOCGPTPEER, O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(env, errno, "ioctl(TIOCGPTPEER)", "console");
  return Napi::Number::New(env, fd);
}

// setNonBlocking(fd): O_NONBLOCK on the open file description, so that reading
// returns what is there now (EAGAIN when nothing is) instead of waiting.
Napi::Value SetNonBlocking(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "setNonBlocking");
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) ThrowErrno(env, errno, "fcntl(F_GETFL)", "fd " + std::to_string(fd));
  if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) ThrowErrno(env, errno, "fcntl(F_SETFL)", "fd " + std::to_string(fd));
  return env.Undefined();
}

// writeAvailable(fd, buffer) -> bytes written: what the pty takes now, 0 when it takes
// nothing (EAGAIN). The fd's file is non-blocking for the write only: a foreground
// run -t reads the same pty master on the event loop, and a blocking write of input the
// container is not reading would stop that loop, and with it the copy of the output
// the container may be blocked on (a deadlock).
Napi::Value WriteAvailable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "writeAvailable");
  if (info.Length() < 2 || !info[1].IsBuffer()) throw Napi::TypeError::New(env, "writeAvailable: data must be a Buffer");
  Napi::Buffer<uint8_t> data = info[1].As<Napi::Buffer<uint8_t>>();
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) ThrowErrno(env, errno, "fcntl(F_GETFL)", "fd " + std::to_string(fd));
  if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) ThrowErrno(env, errno, "fcntl(F_SETFL)", "fd " + std::to_string(fd));
  ssize_t n;
  do {
    n = write(fd, data.Data(), data.Length());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  if (!(flags & O_NONBLOCK)) (void)fcntl(fd, F_SETFL, flags);
  if (n < 0 && err != EAGAIN) ThrowErrno(env, err, "write", "fd " + std::to_string(fd));
  return Napi::Number::New(env, n < 0 ? 0 : static_cast<double>(n));
}

}  // namespace tsrun
