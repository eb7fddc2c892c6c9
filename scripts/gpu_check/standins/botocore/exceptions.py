class ClientError(Exception):
    pass


class HTTPClientError(Exception):
    pass


class ConnectionError(Exception):  # noqa: A001  botocore's own name
    pass
