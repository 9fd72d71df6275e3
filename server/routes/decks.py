"""Decks: the JSON API's list of the decks sessions start from; the deck editor's pages will live here too."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from server.accounts.access import ApiUser
from server.decks import stored_decks
from server.web.deps import ServicesDep
from server.web.problems import API_ERRORS

api_router = APIRouter(prefix="/api/v1", tags=["v1"], responses=API_ERRORS)


class DeckPublic(BaseModel):
    id: int
    slug: str
    title: str


@api_router.get("/decks", response_model=list[DeckPublic])
async def list_decks(user: ApiUser, services: ServicesDep) -> list[DeckPublic]:
    """The decks sessions can start from."""
    decks = await stored_decks(services.db)
    return [DeckPublic(id=d.id or 0, slug=d.slug, title=d.title) for d in decks]
