// For tests that need a loopback port: a socket bound to one, or one that nothing listens on
// now (bound, read back, closed: another process may take it meanwhile; tests use it at once).
//
// Ports come from below the kernel's ephemeral range (net.ipv4.ip_local_port_range) when one
// is free there: a port the kernel picks (bind to 0) is one it may give to the next outgoing
// connection of the test's own servers (database, ZooKeeper, gRPC clients) before the server
// meant to listen on it binds it. tests/free_port.py picks the same way for the shell tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>

namespace dsched {

// A TCP socket bound to a free port of 127.0.0.1; the port in *port.
inline int BoundLoopbackSocket(int* port) {
  int low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low;
  std::mt19937 rng(std::random_device{}());
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool bound = false;
  if (low > 11000) {
    std::uniform_int_distribution<int> below(10000, low - 1);
    for (int i = 0; i < 64 && !bound; ++i) {
      a.sin_port = htons(static_cast<uint16_t>(below(rng)));
      bound = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
  }
  if (!bound) {  // all taken (or no room below the range): the kernel's choice
    a.sin_port = 0;
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
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
