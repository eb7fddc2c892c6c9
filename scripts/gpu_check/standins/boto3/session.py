from botocore import StandInError


class Session:
    def __init__(self, *args, **kwargs):
        raise StandInError("boto3 is not carried to the GPU check (a stand-in takes its place): use local files")
