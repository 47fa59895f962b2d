// The container's terminal: a pty made on the container's devpts instance, whose
// master goes to the console socket and whose slave becomes stdio and the
// controlling terminal.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "init.hpp"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace init {
namespace {

// The slave bound onto the container's /dev/console (made as an empty file if
// missing: 0666 whatever the umask, as runc makes it; a missing /dev 0755). The mount is cloned from the
// slave fd itself, so no path names the pty; a kernel without open_tree (before 5.2)
// binds it by its /dev/pts path, as runc does.
void MountDevConsole(int slave, const std::string& slavePath) {
  const std::string object = "console on /dev/console";
  const char* syscallName = nullptr;
  mode_t oldMask = umask(0);
  Fd target(ResolveInRoot("dev/console", Create::File, true, 0755, &syscallName, 0666));
  umask(oldMask);
  if (target.get() < 0) Fail(object, syscallName, errno);
  int tree = open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree >= 0) {
    Fd detached(tree);
    if (move_mount(tree, "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      Fail(object, "move_mount", errno);
    return;
  }
  if (errno != ENOSYS) Fail(object, "open_tree", errno);
  if (mount(slavePath.c_str(), FdPath(target.get()).c_str(), nullptr, MS_BIND, nullptr) < 0) Fail(object, "mount", errno);
}

}  // namespace

void OpConsole(const Args& a) {
  std::string object = "console";
  int sock = static_cast<int>(ParseU64(a[0], object));
  unsigned rows = static_cast<unsigned>(ParseU64(a[1], object));
  unsigned cols = static_cast<unsigned>(ParseU64(a[2], object));
  bool devConsole = ParseU64(a[3], object) != 0;
  bool clearOnlcr = ParseU64(a[4], object) != 0;
  // /dev/ptmx of the container (after pivotRoot or the mount-namespace join): a
  // pty of its own devpts instance, never the host's.
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) Fail("console /dev/ptmx", "open", errno);
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) Fail("console", "ioctl(TIOCSPTLCK)", errno);
  unsigned ptyNumber = 0;
  if (ioctl(master, TIOCGPTN, &ptyNumber) < 0) Fail("console", "ioctl(TIOCGPTN)", errno);
  std::string slavePath = "/dev/pts/" + std::to_string(ptyNumber);
  // The peer through the master itself: no path lookup that a rootfs could redirect.
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) Fail("console " + slavePath, "ioctl(TIOCGPTPEER)", errno);
  if (rows > 0 || cols > 0) {
    struct winsize ws = {};
    ws.ws_row = static_cast<unsigned short>(rows);
    ws.ws_col = static_cast<unsigned short>(cols);
    if (ioctl(master, TIOCSWINSZ, &ws) < 0) Fail("console", "ioctl(TIOCSWINSZ)", errno);
  }
  if (devConsole) MountDevConsole(slave, slavePath);
  // A pty tsrun relays to its own stdout carries "\n" as written, as runc's relay
  // does: the caller's terminal (if it is one) adds the "\r" itself, and a pipe or a
  // file gets the program's bytes. Set here, before the process can write, since the
  // relay only gets the master once it runs. A caller's console socket gets the pty
  // untouched.
  if (clearOnlcr) {
    struct termios mode;
    if (tcgetattr(master, &mode) < 0) Fail("console", "tcgetattr", errno);
    mode.c_oflag &= ~static_cast<tcflag_t>(ONLCR);
    if (tcsetattr(master, TCSANOW, &mode) < 0) Fail("console", "tcsetattr", errno);
  }
  // Named as runc names it (its master's file name); receivers take the fd, not the name.
  SendFd(sock, "/dev/ptmx", master, "console socket");
  ForceClose(master);
  ForceClose(sock);
  // A new session whose controlling terminal is the slave, and the slave as stdio.
  if (setsid() < 0) Fail("console", "setsid", errno);
  if (ioctl(slave, TIOCSCTTY, 0) < 0) Fail("console " + slavePath, "ioctl(TIOCSCTTY)", errno);
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) Fail("console " + slavePath, "dup2", errno);
  ForceClose(slave);
}

// Without a terminal of its own, a process still gets a session of its own, with no
// controlling terminal: the caller's terminal (a shell's, when run or exec is typed
// at one) would otherwise be the container's /dev/tty, to read and to push input
// into (TIOCSTI), as runc never allows.
void OpNewSession(const Args&) {
  if (setsid() < 0) Fail("newSession", "setsid", errno);
}

}  // namespace init
