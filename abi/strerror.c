/* strerror.c -- text for error codes and addresses, for hosts. */
#include "config.h"

#include "addr.h"
#include "pilot_transport_loader.h"

const char *pt_strerror(int code)
{
    switch (code) {
    case PT_OK: return "success";
    case PT_ECLOSED: return "connection closed";
    case PT_ERECONNECTING: return "reconnecting (frame not sent)";
    case PT_ETIMEDOUT: return "timed out";
    case PT_ETOOLARGE: return "message too large";
    case PT_EINVAL: return "invalid argument";
    case PT_EOPTION: return "invalid option";
    case PT_EAUTH: return "authentication failed";
    case PT_ETLS: return "TLS failure";
    case PT_EIO: return "I/O error";
    case PT_ENOMEM: return "out of memory";
    case PT_EPROTO: return "protocol error";
    case PT_EPROXY: return "proxy failure";
    case PT_EUNSUPPORTED: return "operation not supported";
    case PT_ENOTFOUND: return "plugin not found";
    case PT_ELOAD: return "plugin cannot be loaded";
    case PT_EABI: return "plugin ABI mismatch";
    default: return "unknown error";
    }
}

char *pt_addr_format(const pt_addr *a, char *buf, size_t len)
{
    return ptu_addr_format(a, buf, len);
}
