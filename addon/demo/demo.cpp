// tsrun-demo: a tiny static program to run as a container's process in the README
// demo. It shows what the container sees: its pid, hostname, ids and mounts.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main() {
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  printf("pid:      %d\n", static_cast<int>(getpid()));
  printf("hostname: %s\n", host);
  printf("uid/gid:  %u/%u\n", static_cast<unsigned>(getuid()), static_cast<unsigned>(getgid()));
  printf("mounts:\n");

  FILE* f = fopen("/proc/self/mountinfo", "re");
  if (!f) {
    perror("tsrun-demo: /proc/self/mountinfo");
    return 0;
  }
  // mountinfo: id parent major:minor root mountpoint options [optional...] - fstype source superopts
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    char* fields[64];
    int n = 0;
    for (char* tok = strtok(line, " \n"); tok && n < 64; tok = strtok(nullptr, " \n")) fields[n++] = tok;
    if (n < 5) continue;
    const char* fstype = "?";
    for (int i = 5; i + 1 < n; i++)
      if (strcmp(fields[i], "-") == 0) {
        fstype = fields[i + 1];
        break;
      }
    printf("  %-24s %s\n", fields[4], fstype);
  }
  fclose(f);
  return 0;
}
