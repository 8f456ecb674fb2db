"""The server-rendered pages: one router per page group."""

from fastapi import APIRouter

from . import bench, history, live, login, lots, review, settings

router = APIRouter(include_in_schema=False)
for module in (login, bench, live, history, review, lots, settings):
    router.include_router(module.router)
