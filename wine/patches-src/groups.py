# The edits of each patch of wine/patches/ (read by mkpatches.py): edit(path,
# old, new) replaces text that must occur exactly once; patch(name, subject,
# message, fn) records one patch.

# ---- 0001 configure ------------------------------------------------------
def g_configure():
    edit('configure.ac', "\tlinux/types.h \\\n\tlinux/ucdrom.h \\\n",
         "\tlinux/types.h \\\n\tlinux/ucdrom.h \\\n\tlinux/wsclose.h \\\n")
patch('0001-configure-Check-for-linux-wsclose.h.patch',
      'configure: Check for <linux/wsclose.h>.',
      """
The wsclose kernel module gives Linux sockets the Winsock close semantics
(WSPCloseSocket: linger, WSAEWOULDBLOCK, reset at the linger deadline,
pending operations aborted).  Its ABI header is <linux/wsclose.h>; without
it every wsclose path below compiles out and Wine behaves as before.
""", g_configure)

# ---- 0002 include --------------------------------------------------------
def g_include():
    edit('include/wine/afd.h', "#define IOCTL_AFD_WINE_SET_SO_EXCLUSIVEADDRUSE          WINE_AFD_IOC(298)\n",
"""#define IOCTL_AFD_WINE_SET_SO_EXCLUSIVEADDRUSE          WINE_AFD_IOC(298)
#define IOCTL_AFD_WINE_CLOSE_PREPARE                    WINE_AFD_IOC(299)
#define IOCTL_AFD_WINE_CLOSE_CANCEL                     WINE_AFD_IOC(300)
#define IOCTL_AFD_WINE_CLOSESOCKET                      WINE_AFD_IOC(301)
#define IOCTL_AFD_WINE_SET_SO_DONTLINGER                WINE_AFD_IOC(302)
""")
    edit('include/wine/afd.h', """struct afd_create_params
{""", """/* IOCTL_AFD_WINE_CLOSE_PREPARE output (server) */
struct afd_close_prepare_output
{
    unsigned int last;          /* the handle is the socket's last one */
    unsigned int nonblocking;   /* the Winsock blocking mode */
    unsigned int wsclose;       /* the Unix socket has Winsock close semantics */
};
C_ASSERT( sizeof(struct afd_close_prepare_output) == 12 );

/* IOCTL_AFD_WINE_CLOSESOCKET input (ntdll) */
struct afd_closesocket_params
{
    unsigned int nonblocking;
};
C_ASSERT( sizeof(struct afd_closesocket_params) == 4 );

struct afd_create_params
{""")
patch('0002-include-Add-the-AFD-ioctls-of-the-Winsock-close.patch',
      'include: Add the AFD ioctls of the Winsock close.',
      """
Wine-internal codes carried by the existing ioctl request, so
SERVER_PROTOCOL_VERSION does not change:

- IOCTL_AFD_WINE_CLOSE_PREPARE (server): is this the socket's last handle,
  its Winsock blocking mode, does the Unix socket have Winsock close
  semantics; and stop polling it while the client closes it.
- IOCTL_AFD_WINE_CLOSE_CANCEL (server): the close failed, poll it again.
- IOCTL_AFD_WINE_CLOSESOCKET (ntdll): the close itself, in the calling thread.
- IOCTL_AFD_WINE_SET_SO_DONTLINGER (ntdll): SO_DONTLINGER keeping l_linger.
""", g_include)

# ---- 0003 server: adopt -----------------------------------------------------
SOCK = 'server/sock.c'
def g_server_adopt():
    edit(SOCK, """#ifdef HAVE_LINUX_RTNETLINK_H
# include <linux/rtnetlink.h>
#endif
""", """#ifdef HAVE_LINUX_RTNETLINK_H
# include <linux/rtnetlink.h>
#endif
#ifdef HAVE_LINUX_WSCLOSE_H
# include <linux/wsclose.h>
#endif
""")
    edit(SOCK, """    unsigned int        exclusiveaddruse : 1; /* winsock SO_EXCLUSIVEADDRUSE option value */
};
""", """    unsigned int        exclusiveaddruse : 1; /* winsock SO_EXCLUSIVEADDRUSE option value */
    unsigned int        wsclose : 1; /* the Unix socket has Winsock close semantics (wsclose) */
};
""")
    edit(SOCK, """    sock->reuseaddr = 0;
    sock->exclusiveaddruse = 0;
""", """    sock->reuseaddr = 0;
    sock->exclusiveaddruse = 0;
    sock->wsclose = 0;
""")
    edit(SOCK, """static int init_socket( struct sock *sock, int family, int type, int protocol )
{""", """/* Give a TCP or UDP socket the Winsock close semantics of the wsclose
 * module: closing it then never blocks the server, and the client can close
 * it the Windows way.  Without the module nothing changes. */
static int wsclose_adopt( int unix_fd, int unix_family, int unix_type, int unix_protocol )
{
#ifdef HAVE_LINUX_WSCLOSE_H
    struct wsclose_adopt_args args;
    int dev, ret;

    if (unix_family != AF_INET && unix_family != AF_INET6) return 0;
    if (!(unix_type == SOCK_STREAM && (!unix_protocol || unix_protocol == IPPROTO_TCP)) &&
        !(unix_type == SOCK_DGRAM && (!unix_protocol || unix_protocol == IPPROTO_UDP)))
        return 0;

    if ((dev = open( "/dev/wsclose", O_RDWR | O_CLOEXEC )) == -1) return 0;
    args.fd = unix_fd;
    args.flags = 0;
    ret = ioctl( dev, WSCLOSE_IOC_ADOPT, &args );
    if (ret == -1 && errno == EALREADY) ret = 0;
    close( dev );
    return !ret;
#else
    return 0;
#endif
}

static int init_socket( struct sock *sock, int family, int type, int protocol )
{""")
    edit(SOCK, """    fcntl(sockfd, F_SETFL, O_NONBLOCK); /* make socket nonblocking */
""", """    fcntl(sockfd, F_SETFL, O_NONBLOCK); /* make socket nonblocking */
    sock->wsclose = wsclose_adopt( sockfd, unix_family, unix_type, unix_protocol );
""")
    edit(SOCK, """        acceptsock->nonblocking         = sock->nonblocking;
        acceptsock->mask                = sock->mask;""", """        acceptsock->nonblocking         = sock->nonblocking;
        acceptsock->wsclose             = sock->wsclose;
        acceptsock->mask                = sock->mask;""")
    edit(SOCK, """    acceptsock->state = SOCK_CONNECTED;
    acceptsock->bound = 1;
    acceptsock->pending_events = 0;
    acceptsock->reported_events = 0;
    acceptsock->proto   = sock->proto;""", """    acceptsock->state = SOCK_CONNECTED;
    acceptsock->bound = 1;
    acceptsock->pending_events = 0;
    acceptsock->reported_events = 0;
    acceptsock->wsclose = sock->wsclose;
    acceptsock->proto   = sock->proto;""")
patch('0003-server-Give-TCP-and-UDP-sockets-Winsock-close-semantics-with-wsclose.patch',
      'server: Give TCP and UDP sockets Winsock close semantics with wsclose.',
      """
When /dev/wsclose exists, the server hands each AF_INET/AF_INET6 TCP or
UDP socket it makes to the module (WSCLOSE_IOC_ADOPT); connections
accepted on such a socket are wsclose sockets already.  The server holds
every socket's descriptor, O_NONBLOCK, so when it drops the last reference
of a lingering socket (an accepted socket, or a process exiting without
closesocket) the close no longer blocks the whole server for l_linger
seconds: the module lingers in the background and resets the connection at
the deadline, as Windows does.

Without the module (open fails) nothing changes.
""", g_server_adopt)

# ---- 0004 server: close prepare / cancel -------------------------------------
def g_server_prepare():
    edit(SOCK, """    unsigned int        wsclose : 1; /* the Unix socket has Winsock close semantics (wsclose) */
};
""", """    unsigned int        wsclose : 1; /* the Unix socket has Winsock close semantics (wsclose) */
    unsigned int        is_deferred : 1; /* a listener keeps it for a deferred accept (CF_DEFER) */
    unsigned int        closers;     /* client threads closing the socket */
};
""")
    edit(SOCK, """    sock->wsclose = 0;
""", """    sock->wsclose = 0;
    sock->is_deferred = 0;
    sock->closers = 0;
""")
    # WSAAccept's CF_DEFER hands the accepted socket back to the listener and
    # closes its handle: that close is not the socket's last.
    edit(SOCK, """        acceptsock = sock->deferred;
        sock->deferred = NULL;
""", """        acceptsock = sock->deferred;
        sock->deferred = NULL;
        acceptsock->is_deferred = 0;
""")
    edit(SOCK, """        acceptsock = (struct sock *)get_handle_obj( current->process, *handle, 0, &sock_ops );
        if (!acceptsock) return;

        sock->deferred = acceptsock;
""", """        acceptsock = (struct sock *)get_handle_obj( current->process, *handle, 0, &sock_ops );
        if (!acceptsock) return;

        acceptsock->is_deferred = 1;
        sock->deferred = acceptsock;
""")
    edit(SOCK, """    if (!sock->type) /* not initialized yet */
        return -1;

    LIST_FOR_EACH_ENTRY( req, &poll_list, struct poll_req, entry )""", """    if (!sock->type) /* not initialized yet */
        return -1;

    /* A client thread is closing the socket: the close reports EPOLLERR,
     * which is not a connection error.  Stop polling until the handle goes
     * or the close is cancelled. */
    if (sock->closers)
        return -1;

    LIST_FOR_EACH_ENTRY( req, &poll_list, struct poll_req, entry )""")
    edit(SOCK, """    case IOCTL_AFD_WINE_GET_SO_ACCEPTCONN:
    {""", """    case IOCTL_AFD_WINE_CLOSE_PREPARE:
    {
        struct afd_close_prepare_output output;

        if (get_reply_max_size() < sizeof(output))
        {
            set_error( STATUS_BUFFER_TOO_SMALL );
            return;
        }
        output.last = (sock->obj.handle_count == 1 && !sock->is_deferred);
        output.nonblocking = sock->nonblocking;
        output.wsclose = sock->wsclose;
        if (output.last && sock->wsclose && !sock->closers++)
            sock_reselect( sock );
        set_reply_data( &output, sizeof(output) );
        return;
    }

    case IOCTL_AFD_WINE_CLOSE_CANCEL:
        if (sock->closers && !--sock->closers)
            sock_reselect( sock );
        return;

    case IOCTL_AFD_WINE_GET_SO_ACCEPTCONN:
    {""")
patch('0004-server-Let-a-client-thread-close-a-socket-the-Winsock-way.patch',
      'server: Let a client thread close a socket the Winsock way.',
      """
closesocket() must wait for a lingering close in the calling thread (or
fail with WSAEWOULDBLOCK) and never in the server.  IOCTL_AFD_WINE_CLOSE_PREPARE
tells the client whether its handle is the last one, the Winsock blocking
mode (sock->nonblocking: FIONBIO, WSAEventSelect, WSAAsyncSelect,
shutdown(SD_BOTH), not the Unix descriptor's O_NONBLOCK) and whether the
socket is a wsclose socket; for the last handle of one it stops polling the
descriptor until the handle is closed or IOCTL_AFD_WINE_CLOSE_CANCEL comes,
because the close reports EPOLLERR, which sock_poll_event() would take for
a connection error (SO_ERROR, AFD_POLL_RESET) instead of letting
sock_close_handle() report AFD_POLL_CLOSE to pending polls.  Concurrent
closers are counted: the module fails the second with EINPROGRESS.

A socket that a listener keeps for a deferred accept (WSAAccept's CF_DEFER
closes its handle right after IOCTL_AFD_WINE_DEFER) is not at its last
handle: closing it the Winsock way would reset the connection that a later
accept() or AcceptEx hands out (test_AcceptEx, "CF_DEFER & AcceptEx").
""", g_server_prepare)

# ---- 0005 server: statuses ---------------------------------------------------
def g_server_status():
    edit(SOCK, """        LIST_FOR_EACH_ENTRY_SAFE( accept_req, accept_next, &sock->accept_list, struct accept_req, entry )
            async_terminate( accept_req->async, STATUS_CANCELLED );
""", """        /* A blocking accept() fails with WSAEINTR on Windows, AcceptEx with
         * ERROR_OPERATION_ABORTED. */
        LIST_FOR_EACH_ENTRY_SAFE( accept_req, accept_next, &sock->accept_list, struct accept_req, entry )
            async_terminate( accept_req->async, sock->wsclose && !accept_req->acceptsock
                             ? STATUS_REQUEST_ABORTED : STATUS_CANCELLED );
""")
    edit(SOCK, """        if (sock->connect_req)
            async_terminate( sock->connect_req->async, STATUS_CANCELLED );

        LIST_FOR_EACH_ENTRY_SAFE( poll_req, poll_next, &poll_list, struct poll_req, entry )""", """        if (sock->connect_req)
            async_terminate( sock->connect_req->async, STATUS_CANCELLED );

        /* Windows ends pending receives and sends with
         * STATUS_CONNECTION_ABORTED (ERROR_CONNECTION_ABORTED, WSAECONNABORTED);
         * sock_destroy() would end them with STATUS_HANDLES_CLOSED. */
        if (sock->wsclose)
        {
            async_wake_up( &sock->read_q, STATUS_CONNECTION_ABORTED );
            async_wake_up( &sock->write_q, STATUS_CONNECTION_ABORTED );
        }

        LIST_FOR_EACH_ENTRY_SAFE( poll_req, poll_next, &poll_list, struct poll_req, entry )""")
patch('0005-server-End-pending-operations-at-close-with-the-Windows-statuses.patch',
      'server: End pending operations at close with the Windows statuses.',
      """
On the last handle of a wsclose socket, pending receives and sends end with
STATUS_CONNECTION_ABORTED, as the todo_wine in iocp_async_read_closesocket()
expects, instead of STATUS_HANDLES_CLOSED (which ws2_32 reports as
WSAEINVAL, GetQueuedCompletionStatus as ERROR_HANDLES_CLOSED); a blocking
accept() ends with STATUS_REQUEST_ABORTED (WSAEINTR); AcceptEx and
connect keep STATUS_CANCELLED, polls keep AFD_POLL_CLOSE.

Only wsclose sockets change, so that without the module everything is as
before.
""", g_server_status)

# ---- 0006 ntdll ---------------------------------------------------------------
NT = 'dlls/ntdll/unix/socket.c'
def g_ntdll():
    edit(NT, """#include <sys/ioctl.h>
#include <unistd.h>
""", """#include <sys/ioctl.h>
#include <unistd.h>
#include <fcntl.h>
#ifdef HAVE_LINUX_WSCLOSE_H
# include <linux/wsclose.h>
#endif
""")
    edit(NT, """static int get_sock_type( HANDLE handle )
{""", """/* The Winsock close of the last handle of a wsclose socket, in the calling
 * thread: lingers (blocking mode) until the data is acknowledged or
 * l_linger runs out and the connection is reset, fails with
 * STATUS_DEVICE_NOT_READY (WSAEWOULDBLOCK, nothing changed) when a
 * non-blocking socket would linger, STATUS_DEVICE_BUSY (WSAEINPROGRESS)
 * while another thread's close waits.  Any other failure: the caller closes
 * the handle as before. */
static NTSTATUS sock_closesocket( HANDLE handle, IO_STATUS_BLOCK *io, unsigned int nonblocking )
{
#ifdef HAVE_LINUX_WSCLOSE_H
    struct wsclose_close_args args;
    int fd, closefd, needs_close = FALSE, ret, err;
    NTSTATUS status;

    if ((status = server_get_unix_fd( handle, 0, &fd, &needs_close, NULL, NULL )))
        return status;
    /* The close releases the descriptor it is made on: never the one cached
     * for the handle. */
    if (needs_close) closefd = fd;
    else if ((closefd = fcntl( fd, F_DUPFD_CLOEXEC, 0 )) == -1) return sock_errno_to_status( errno );

    memset( &args, 0, sizeof(args) );
    args.fd = closefd;
    args.flags = nonblocking ? WSCLOSE_AS_NONBLOCKING : WSCLOSE_AS_BLOCKING;
    /* A signal (SIGUSR1 for suspension or APCs) interrupts the linger wait;
     * the retry resumes it toward the same deadline. */
    do ret = ioctl( closefd, WSCLOSE_SIOC_CLOSE, &args );
    while (ret == -1 && errno == EINTR);
    if (!ret)
    {
        TRACE( "handle %p closed, outcome %u\\n", handle, args.outcome );
        io->Information = 0;
        return STATUS_SUCCESS;
    }
    err = errno;
    close( closefd );
    TRACE( "handle %p not closed, errno %d\\n", handle, err );
    if (err == EWOULDBLOCK) return STATUS_DEVICE_NOT_READY;
    if (err == EINPROGRESS) return STATUS_DEVICE_BUSY;
#endif
    return STATUS_INVALID_DEVICE_REQUEST;
}


static int get_sock_type( HANDLE handle )
{""")
    edit(NT, """        case IOCTL_AFD_WINE_SET_SO_LINGER:
        {""", """        case IOCTL_AFD_WINE_CLOSESOCKET:
        {
            const struct afd_closesocket_params *params = in_buffer;

            if (in_size < sizeof(*params)) return STATUS_BUFFER_TOO_SMALL;
            return sock_closesocket( handle, io, params->nonblocking );
        }

        case IOCTL_AFD_WINE_SET_SO_DONTLINGER:
        {
            struct linger unix_linger;
            socklen_t len = sizeof(unix_linger);
            int keep = 0, ret;

            if (in_size < sizeof(int)) return STATUS_BUFFER_TOO_SMALL;
            if ((status = server_get_unix_fd( handle, 0, &fd, &needs_close, NULL, NULL )))
                return status;
            if (getsockopt( fd, SOL_SOCKET, SO_LINGER, &unix_linger, &len )) unix_linger.l_linger = 0;
#ifdef HAVE_LINUX_WSCLOSE_H
            {
                struct wsclose_query_args query;

                /* SO_DONTLINGER only flips l_onoff on Windows.  A plain Linux
                 * socket would then linger in close(): there, keep {!value, 0}. */
                keep = !ioctl( fd, WSCLOSE_SIOC_QUERY, &query );
            }
#endif
            unix_linger.l_onoff = !*(const int *)in_buffer;
            if (!keep) unix_linger.l_linger = 0;
            ret = setsockopt( fd, SOL_SOCKET, SO_LINGER, &unix_linger, sizeof(unix_linger) );
            status = ret ? sock_errno_to_status( errno ) : STATUS_SUCCESS;
            break;
        }

        case IOCTL_AFD_WINE_SET_SO_LINGER:
        {""")
patch('0006-ntdll-Implement-the-Winsock-close-and-SO_DONTLINGER-on-wsclose-sockets.patch',
      'ntdll: Implement the Winsock close and SO_DONTLINGER on wsclose sockets.',
      """
IOCTL_AFD_WINE_CLOSESOCKET makes the module's close ioctl
(WSCLOSE_SIOC_CLOSE) on a descriptor of the socket with the Winsock blocking
mode the server reported, retrying on EINTR: Wine's SIGUSR1 interrupts the
wait, and the module resumes it toward the same deadline.  The close
releases the descriptor it is made on, so a cached descriptor is dup()ed
first.  EWOULDBLOCK becomes STATUS_DEVICE_NOT_READY (WSAEWOULDBLOCK),
EINPROGRESS STATUS_DEVICE_BUSY (WSAEINPROGRESS); anything else, such as a
socket that is not a wsclose socket, STATUS_INVALID_DEVICE_REQUEST, and
ws2_32 closes the handle as before.

IOCTL_AFD_WINE_SET_SO_DONTLINGER keeps l_linger on a wsclose socket, as
Windows does (SO_DONTLINGER FALSE re-enables the previous time-out); on any
other socket it sets {!value, 0} as before, since a plain Linux socket
would block in close().
""", g_ntdll)

# ---- 0007 ws2_32 closesocket -------------------------------------------------
WS = 'dlls/ws2_32/socket.c'
def g_ws2_close():
    edit(WS, """int WINAPI closesocket( SOCKET s )
{
    TRACE( "%#Ix\\n", s );

    if (!num_startup)
    {
        SetLastError( WSANOTINITIALISED );
        return -1;
    }

    if (!socket_list_remove( s ))""", """int WINAPI closesocket( SOCKET s )
{
    struct afd_close_prepare_output prepare;
    struct afd_closesocket_params params;
    IO_STATUS_BLOCK io;
    NTSTATUS status;

    TRACE( "%#Ix\\n", s );

    if (!num_startup)
    {
        SetLastError( WSANOTINITIALISED );
        return -1;
    }

    if (!socket_list_find( s ))
    {
        SetLastError( WSAENOTSOCK );
        return -1;
    }

    /* The last handle of a socket with Winsock close semantics lingers, or
     * fails with WSAEWOULDBLOCK and stays valid, in this thread. */
    status = NtDeviceIoControlFile( (HANDLE)s, NULL, NULL, NULL, &io, IOCTL_AFD_WINE_CLOSE_PREPARE,
                                    NULL, 0, &prepare, sizeof(prepare) );
    if (!status && prepare.last && prepare.wsclose)
    {
        params.nonblocking = prepare.nonblocking;
        status = NtDeviceIoControlFile( (HANDLE)s, NULL, NULL, NULL, &io, IOCTL_AFD_WINE_CLOSESOCKET,
                                        &params, sizeof(params), NULL, 0 );
        TRACE( "close status %#lx\\n", status );
        if (status)
        {
            NtDeviceIoControlFile( (HANDLE)s, NULL, NULL, NULL, &io, IOCTL_AFD_WINE_CLOSE_CANCEL,
                                   NULL, 0, NULL, 0 );
            if (status == STATUS_DEVICE_NOT_READY)
            {
                SetLastError( WSAEWOULDBLOCK );
                return -1;
            }
            if (status == STATUS_DEVICE_BUSY)
            {
                SetLastError( WSAEINPROGRESS );
                return -1;
            }
        }
    }

    if (!socket_list_remove( s ))""")
patch('0007-ws2_32-Implement-the-closesocket-linger-rules.patch',
      'ws2_32: Implement the closesocket() linger rules.',
      """
WSPCloseSocket: with SO_LINGER {1,n} and data pending, a blocking socket's
closesocket() waits until the data is acknowledged or n seconds pass and
then resets the connection; a non-blocking socket's fails at once with
WSAEWOULDBLOCK and stays valid, with no disconnect started.  The wait is
in the calling thread (ntdll), never in the server.  A socket without
Winsock close semantics (no wsclose module) closes as before.
""", g_ws2_close)

# ---- 0008 ws2_32 SO_DONTLINGER ------------------------------------------------
def g_ws2_dontlinger():
    edit(WS, """        case SO_DONTLINGER:
        {
            LINGER linger;

            if (!optval)
            {
                SetLastError( WSAEFAULT );
                return -1;
            }

            linger.l_onoff  = !*(const BOOL *)optval;
            linger.l_linger = 0;
            return setsockopt( s, SOL_SOCKET, SO_LINGER, (char *)&linger, sizeof(linger) );
        }
""", """        case SO_DONTLINGER:
            if (!optval)
            {
                SetLastError( WSAEFAULT );
                return -1;
            }

            value = *(const BOOL *)optval;
            return server_setsockopt( s, IOCTL_AFD_WINE_SET_SO_DONTLINGER, (char *)&value, sizeof(value) );
""")
patch('0008-ws2_32-Keep-the-linger-time-out-on-SO_DONTLINGER.patch',
      'ws2_32: Keep the linger time-out on SO_DONTLINGER.',
      """
SO_DONTLINGER flips l_onoff only; SO_DONTLINGER FALSE re-enables the
previous time-out instead of making the next close abortive ({1,0}).
ntdll keeps l_linger only where the socket has Winsock close semantics.
""", g_ws2_dontlinger)

# ---- 0009 ws2_32/tests ----------------------------------------------------------
TS = 'dlls/ws2_32/tests/sock.c'
def g_tests():
    edit(TS, """static void test_extendedSocketOptions(void)
{""", """static void test_closesocket_linger(void)
{
    static char buffer[65536];
    SOCKET client, server;
    LINGER linger;
    u_long one = 1;
    BOOL value;
    int ret, len;

    tcp_socketpair(&client, &server);

    /* SO_DONTLINGER only flips l_onoff: FALSE restores the previous time-out. */
    linger.l_onoff = 1;
    linger.l_linger = 1;
    ret = setsockopt(client, SOL_SOCKET, SO_LINGER, (char *)&linger, sizeof(linger));
    ok(!ret, "got error %u\\n", WSAGetLastError());
    value = TRUE;
    ret = setsockopt(client, SOL_SOCKET, SO_DONTLINGER, (char *)&value, sizeof(value));
    ok(!ret, "got error %u\\n", WSAGetLastError());
    value = FALSE;
    ret = setsockopt(client, SOL_SOCKET, SO_DONTLINGER, (char *)&value, sizeof(value));
    ok(!ret, "got error %u\\n", WSAGetLastError());
    memset(&linger, 0xcc, sizeof(linger));
    len = sizeof(linger);
    ret = getsockopt(client, SOL_SOCKET, SO_LINGER, (char *)&linger, &len);
    ok(!ret, "got error %u\\n", WSAGetLastError());
    ok(linger.l_onoff == 1, "got l_onoff %u\\n", linger.l_onoff);
    todo_wine ok(linger.l_linger == 1, "got l_linger %u\\n", linger.l_linger);

    /* A non-blocking socket lingering with unsent data: WSAEWOULDBLOCK at
     * once, the socket stays valid and nothing is sent. */
    linger.l_onoff = 1;
    linger.l_linger = 1;
    ret = setsockopt(client, SOL_SOCKET, SO_LINGER, (char *)&linger, sizeof(linger));
    ok(!ret, "got error %u\\n", WSAGetLastError());
    ret = ioctlsocket(client, FIONBIO, &one);
    ok(!ret, "got error %u\\n", WSAGetLastError());
    while (send(client, buffer, sizeof(buffer), 0) > 0)
        ;
    ok(WSAGetLastError() == WSAEWOULDBLOCK, "got error %u\\n", WSAGetLastError());

    WSASetLastError(0xdeadbeef);
    ret = closesocket(client);
    todo_wine ok(ret == -1, "got %d\\n", ret);
    todo_wine ok(WSAGetLastError() == WSAEWOULDBLOCK, "got error %u\\n", WSAGetLastError());
    if (ret == -1)
    {
        len = sizeof(linger);
        ret = getsockopt(client, SOL_SOCKET, SO_LINGER, (char *)&linger, &len);
        ok(!ret, "got error %u\\n", WSAGetLastError());

        /* An abortive close succeeds at once. */
        close_with_rst(client);
    }
    closesocket(server);
}

static void test_extendedSocketOptions(void)
{""")
    edit(TS, """    test_extendedSocketOptions();
    test_so_debug();""", """    test_extendedSocketOptions();
    test_closesocket_linger();
    test_so_debug();""")
patch('0009-ws2_32-tests-Test-the-closesocket-linger-rules.patch',
      'ws2_32/tests: Test the closesocket() linger rules.',
      """
SO_DONTLINGER FALSE restores the previous time-out, and a non-blocking
socket lingering with unsent data fails closesocket() with WSAEWOULDBLOCK
and stays valid.  Both are todo_wine: Wine passes them only where the
wsclose module is loaded (there they report "succeeded inside todo
block"); without it the close blocks for the 1 s time-out.
""", g_tests)
