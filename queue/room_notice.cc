#include "queue/room_notice.h"

namespace tidegate::queue {

std::string_view RoomNoticeText(RoomNotice notice, pages::Language language) {
  bool fr = language == pages::Language::kFrench;
  switch (notice) {
    case RoomNotice::kNone:
      return "";
    case RoomNotice::kTicketUsed:
      return fr ? "Cette place dans la file a d\u00e9j\u00e0 servi pour entrer. Si c'\u00e9tait "
                  "vous, rechargez la page ; sinon, rechargez-la pour reprendre une place."
                : "This place in line has already been used to enter the shop. If that was "
                  "you, reload the page; otherwise reload it to join the line again.";
    case RoomNotice::kSessionEnded:
      return fr ? "Votre visite pr\u00e9c\u00e9dente est termin\u00e9e, merci ! Pour revenir dans "
                  "la boutique, vous reprenez une place dans la file."
                : "Your previous visit has ended, thank you! To come back to the shop, you "
                  "take a new place in line.";
    case RoomNotice::kPlaceExpired:
      return fr ? "Votre place pr\u00e9c\u00e9dente dans la file a expir\u00e9 pendant votre "
                  "absence (une place est gard\u00e9e environ 6 heures sans visite de cette "
                  "page). Voici une nouvelle place dans la file."
                : "Your earlier place in line expired while you were away (a place is kept "
                  "for about 6 hours without a visit to this page). This is a new place in "
                  "line.";
    case RoomNotice::kInvitationLapsed:
      return fr ? "C'\u00e9tait votre tour, mais vous n'\u00eates pas revenu \u00e0 temps : "
                  "une invitation \u00e0 entrer ne dure que quelques minutes. Voici une "
                  "nouvelle place dans la file ; gardez cette page ouverte pour entrer."
                : "It was your turn, but you did not come back in time: an invitation to "
                  "enter lasts only a few minutes. This is a new place in line; keep this "
                  "page open to get in.";
    case RoomNotice::kPlaceLost:
      return fr ? "Nous sommes d\u00e9sol\u00e9s : la file d'attente a perdu sa trace des "
                  "places lors d'un red\u00e9marrage et n'a pas pu garder la v\u00f4tre. "
                  "Voici une nouvelle place dans la file."
                : "We are sorry: the line lost its record of places in a restart and could "
                  "not keep yours. This is a new place in line.";
    case RoomNotice::kPassShared:
      return fr ? "Ce pass d'entr\u00e9e est d\u00e9j\u00e0 utilis\u00e9 depuis plusieurs "
                  "autres r\u00e9seaux en ce moment. Il ne sert pas ici : vous prenez une place "
                  "dans la file."
                : "This entry pass is already in use from several other networks right now, "
                  "so it does not work here: you take a place in line.";
  }
  return "";
}

std::string_view RoomNoticeCode(RoomNotice notice) {
  switch (notice) {
    case RoomNotice::kNone:
      return "";
    case RoomNotice::kTicketUsed:
      return "ticket_used";
    case RoomNotice::kSessionEnded:
      return "session_ended";
    case RoomNotice::kPlaceExpired:
      return "place_expired";
    case RoomNotice::kInvitationLapsed:
      return "invitation_lapsed";
    case RoomNotice::kPlaceLost:
      return "place_lost";
    case RoomNotice::kPassShared:
      return "pass_shared";
  }
  return "";
}

}  // namespace tidegate::queue
