"""Serves moto (DynamoDB and the rest) on HOST PORT, one request at a time.

moto_server serves requests on concurrent threads, but moto's DynamoDB
transactions are not isolated from each other: TransactWriteItems applies
its writes one by one and, to cancel, puts back a deep copy of the whole
table taken at its start, erasing whatever other requests committed
meanwhile (and the copy itself fails with "dictionary changed size during
iteration" while another thread writes). Our concurrency tests then see
lost updates that DynamoDB never produces. Serving one request at a time
makes each call atomic, as DynamoDB's are; clients still interleave
their calls, so optimistic-concurrency conflicts still happen and are
still tested.

Usage: python moto_server.py HOST PORT
"""

import sys

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
