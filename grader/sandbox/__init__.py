"""The sandbox: untrusted submission code runs in confined worker processes."""

from grader.sandbox.client import (
    MissingName,
    NotGraded,
    ReplyError,
    SandboxedSubmission,
    StudentError,
    TimeBudgetSpent,
    WorkerCrashed,
    WorkerError,
    WorkerTimeout,
)
from grader.sandbox.isolation import Limits
from grader.sandbox.wire import MalformedReply, Opaque
from grader.sandbox.zygote import Zygote

__all__ = ["Limits", "MalformedReply", "MissingName", "NotGraded", "Opaque", "ReplyError",
           "SandboxedSubmission", "StudentError", "TimeBudgetSpent", "WorkerCrashed",
           "WorkerError", "WorkerTimeout", "Zygote"]
