// For tests that need a loopback port: a socket bound to one, or one that nothing listens on
// now (bound, read back, closed: another process may take it meanwhile; tests use it at once).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace dsched {

// A TCP socket bound to a free port of 127.0.0.1, chosen by the kernel; the port in *port.
inline int BoundLoopbackSocket(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

inline int UnusedLoopbackPort() {
  int port = 0;
  close(BoundLoopbackSocket(&port));
  return port;
}

}  // namespace dsched
