"""The JSON API under /api: one router per resource."""

from fastapi import APIRouter

from . import inspections, lots, nets, reviews, station

router = APIRouter()
router.include_router(station.router)
router.include_router(inspections.router)
router.include_router(reviews.router)
router.include_router(lots.router)
router.include_router(nets.router)
