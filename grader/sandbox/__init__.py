"""The sandbox: untrusted submission code runs in confined worker processes."""

from grader.sandbox.client import (
    MissingName,
    NotGraded,
    Policy,
    ReplyError,
    SandboxedSubmission,
    SandboxRefused,
    StudentError,
    TimeBudgetSpent,
    WorkerCrashed,
    WorkerError,
    WorkerTimeout,
    probe,
)
from grader.sandbox.isolation import Limits
from grader.sandbox.wire import MalformedReply, Opaque
from grader.sandbox.zygote import Zygote

__all__ = ["Limits", "MalformedReply", "MissingName", "NotGraded", "Opaque", "Policy",
           "ReplyError", "SandboxRefused", "SandboxedSubmission", "StudentError",
           "TimeBudgetSpent", "WorkerCrashed", "WorkerError", "WorkerTimeout", "Zygote", "probe"]
