"""Campaigns (đợt truyền thông): posts under a plan, their schedule, answers and templates."""

from content.campaign.check import (
    CampaignFileError,
    LoadedCampaign,
    check_campaigns,
    load_campaign,
    load_campaigns,
)
from content.campaign.render import Rendered, buttons, render
from content.campaign.schema import Campaign, Kind, Post, Quiz, Recurrence, Schedule

__all__ = [
    "Campaign",
    "CampaignFileError",
    "Kind",
    "LoadedCampaign",
    "Post",
    "Quiz",
    "Recurrence",
    "Rendered",
    "Schedule",
    "buttons",
    "check_campaigns",
    "load_campaign",
    "load_campaigns",
    "render",
]
