class Config:
    def __init__(self, *args, **kwargs):
        pass
